// Package openai drafts captionbot posts with any OpenAI-compatible chat
// completions server — OpenAI itself, or Ollama, llama.cpp's server and vLLM
// through their /v1 URL — using github.com/sashabaranov/go-openai.
//
// Client asks for structured output (a JSON object with caption, hashtags and
// alt_text, by JSON schema), falls back to JSON mode and then to plain text
// for servers that reject it, retries 429 and 5xx answers with exponential
// backoff that honours Retry-After, and can send the photo, downscaled, as an
// image part for vision models. It implements refiner.Writer: package refiner
// enforces limits and safety on what it drafts and falls back to the offline
// refiner when it fails. Errors never contain the API key.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	goopenai "github.com/sashabaranov/go-openai"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
	"github.com/captionbot/captionbot/refiner"
)

// Name is Post.WrittenBy for posts this package drafts.
const Name = "openai"

// Defaults for Config's zero values.
const (
	DefaultBaseURL     = "https://api.openai.com/v1"
	DefaultTimeout     = 20 * time.Second
	DefaultBaseBackoff = 500 * time.Millisecond
	DefaultMaxBackoff  = 8 * time.Second
)

// Config configures a Client.
type Config struct {
	// BaseURL is the server's API root, e.g. "http://localhost:11434/v1"
	// for Ollama; empty means DefaultBaseURL.
	BaseURL string
	// APIKey is sent as a bearer token; local servers need none.
	APIKey string
	// Model is the model name the server knows. Required.
	Model string
	// Timeout bounds one Write, retries included; zero means DefaultTimeout.
	Timeout time.Duration
	// MaxRetries is how many times a failed call (429, 5xx, network error)
	// is retried; zero means none.
	MaxRetries int
	// Temperature is the sampling temperature; zero leaves the server's
	// default. Another variant (Regenerate) raises it.
	Temperature float32
	// SendImage sends the photo, downscaled to ImageSide, as an image part.
	SendImage bool
	// DecodeImage decodes the photo for SendImage; nil means the standard
	// decoders (JPEG, PNG, GIF, WebP) without EXIF orientation.
	// cmd/captionbot passes captioner.DecodeImage, which honours it.
	DecodeImage func(photo []byte) (image.Image, error)
	// HTTPClient makes the requests; nil means a new http.Client.
	HTTPClient *http.Client
	// BaseBackoff and MaxBackoff shape the retry delays when the server
	// sends no Retry-After; zero means the defaults.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
}

// Client drafts posts with an OpenAI-compatible server. It is safe for
// concurrent use.
type Client struct {
	cfg Config
	api *goopenai.Client
	// format is the response format the server accepts, lowered on a 400.
	format atomic.Int32
}

var _ refiner.Writer = (*Client)(nil)

// Response formats, from most to least structured.
const (
	formatSchema int32 = iota
	formatJSONObject
	formatText
)

// New returns a Client for cfg.
func New(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.Model) == "" {
		return nil, errors.New("openai: no model configured")
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return nil, fmt.Errorf("openai: base URL must start with http:// or https://")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.DecodeImage == nil {
		cfg.DecodeImage = decodeImage
	}
	if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = DefaultBaseBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	httpClient := cfg.HTTPClient
	if httpClient == nil {
		httpClient = &http.Client{}
	}
	oc := goopenai.DefaultConfig(cfg.APIKey)
	oc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	oc.HTTPClient = headerRecorder{next: httpClient}
	return &Client{cfg: cfg, api: goopenai.NewClientWithConfig(oc)}, nil
}

// Write drafts a post for req with the LLM. The draft is not yet checked
// against the network's limits or the safety rules; package refiner does that.
func (c *Client) Write(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	n, err := prompts.Lookup(req.Network)
	if err != nil {
		return bot.Post{}, err
	}
	labels := make([]string, 0, len(req.Description.Labels))
	for _, l := range req.Description.Labels {
		labels = append(labels, l.Label)
	}
	var objects []prompts.Object
	for _, s := range req.Description.Subjects {
		objects = append(objects, prompts.Object{Name: s.Name, Count: s.Count})
	}
	p, err := prompts.Render(n, prompts.Input{
		Caption:  req.Description.Caption,
		Objects:  objects,
		Labels:   labels,
		Tone:     req.Tone,
		Language: req.Language,
		Hashtags: req.Hashtags,
		Hint:     req.Hint,
		Variant:  req.Variant,
	})
	if err != nil {
		return bot.Post{}, err
	}
	user := goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleUser, Content: p.User}
	if c.cfg.SendImage && len(req.Image) > 0 {
		// A photo we cannot read goes without its image part; the caption
		// and labels still describe it.
		if url, err := imageDataURL(req.Image, c.cfg.DecodeImage); err == nil {
			user = goopenai.ChatCompletionMessage{Role: goopenai.ChatMessageRoleUser, MultiContent: []goopenai.ChatMessagePart{
				{Type: goopenai.ChatMessagePartTypeText, Text: p.User},
				{Type: goopenai.ChatMessagePartTypeImageURL, ImageURL: &goopenai.ChatMessageImageURL{URL: url, Detail: goopenai.ImageURLDetailLow}},
			}}
		}
	}
	creq := goopenai.ChatCompletionRequest{
		Model: c.cfg.Model,
		Messages: []goopenai.ChatCompletionMessage{
			{Role: goopenai.ChatMessageRoleSystem, Content: p.System},
			user,
		},
		Temperature: c.temperature(req.Variant),
	}
	content, err := c.complete(ctx, creq)
	if err != nil {
		return bot.Post{}, err
	}
	post, err := parseReply(content)
	if err != nil {
		return bot.Post{}, err
	}
	post.Network, post.WrittenBy = n.Name, Name
	return post, nil
}

// temperature raises the configured temperature for another variant, so a
// Regenerate reads differently.
func (c *Client) temperature(variant int) float32 {
	t := c.cfg.Temperature
	if variant <= 0 {
		return t
	}
	if t == 0 {
		t = 0.7
	}
	return min(t+0.2*float32(min(variant, 3)), 1.5)
}

// replySchema is the JSON schema of an answer.
var replySchema = json.RawMessage(`{
  "type": "object",
  "properties": {
    "caption": {"type": "string"},
    "hashtags": {"type": "array", "items": {"type": "string"}},
    "alt_text": {"type": "string"}
  },
  "required": ["caption", "hashtags", "alt_text"],
  "additionalProperties": false
}`)

// complete sends the request with the response format the server accepts,
// retrying as configured, and returns the answer's text.
func (c *Client) complete(ctx context.Context, creq goopenai.ChatCompletionRequest) (string, error) {
	for {
		format := c.format.Load()
		switch format {
		case formatSchema:
			creq.ResponseFormat = &goopenai.ChatCompletionResponseFormat{
				Type: goopenai.ChatCompletionResponseFormatTypeJSONSchema,
				JSONSchema: &goopenai.ChatCompletionResponseFormatJSONSchema{
					Name: "post", Schema: replySchema, Strict: true,
				},
			}
		case formatJSONObject:
			creq.ResponseFormat = &goopenai.ChatCompletionResponseFormat{Type: goopenai.ChatCompletionResponseFormatTypeJSONObject}
		default:
			creq.ResponseFormat = nil
		}
		resp, err := c.withRetries(ctx, creq)
		var e *Error
		if errors.As(err, &e) && rejectsFormat(e) && format < formatText {
			// The server may not know this response format: step down and
			// remember it for the next post.
			c.format.CompareAndSwap(format, format+1)
			continue
		}
		if err != nil {
			return "", err
		}
		if len(resp.Choices) == 0 {
			return "", fmt.Errorf("openai: %w: no choices", ErrBadReply)
		}
		msg := resp.Choices[0].Message
		if msg.Refusal != "" {
			return "", fmt.Errorf("openai: %w", ErrRefused)
		}
		if resp.Choices[0].FinishReason == goopenai.FinishReasonContentFilter {
			return "", fmt.Errorf("openai: %w: content filter", ErrRefused)
		}
		return msg.Content, nil
	}
}

// withRetries calls the server until it answers, a failure is not worth
// retrying, the retries are spent, or the next wait would pass the deadline.
func (c *Client) withRetries(ctx context.Context, creq goopenai.ChatCompletionRequest) (goopenai.ChatCompletionResponse, error) {
	for attempt := 0; ; attempt++ {
		var retryAfter string
		resp, err := c.api.CreateChatCompletion(context.WithValue(ctx, retryAfterKey{}, &retryAfter), creq)
		if err == nil {
			return resp, nil
		}
		if isSamplingRejected(err) && creq.Temperature != 0 {
			// Reasoning models take no temperature.
			creq.Temperature = 0
			attempt--
			continue
		}
		e := c.wrap(ctx, err)
		if !e.Retryable || attempt >= c.cfg.MaxRetries {
			return resp, e
		}
		wait := c.backoff(attempt, retryAfter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return resp, e
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, c.wrap(ctx, ctx.Err())
		case <-t.C:
		}
	}
}

// rejectsFormat reports whether a failure looks like the server not
// supporting the response format: a 400 that names it, or says nothing.
func rejectsFormat(e *Error) bool {
	if e.StatusCode != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(e.Message)
	return m == "no message" || strings.Contains(m, "format") || strings.Contains(m, "schema") || strings.Contains(m, "json")
}

func isSamplingRejected(err error) bool {
	return errors.Is(err, goopenai.ErrReasoningModelLimitationsOther) ||
		errors.Is(err, goopenai.ErrO1BetaLimitationsOther) ||
		errors.Is(err, goopenai.ErrReasoningSamplingUnsupported)
}

// backoff is the wait before retry attempt+1: the server's Retry-After when
// it sent one, else exponential from BaseBackoff with jitter, capped.
func (c *Client) backoff(attempt int, retryAfter string) time.Duration {
	if d, ok := parseRetryAfter(retryAfter, time.Now()); ok {
		return d
	}
	d := c.cfg.BaseBackoff << min(attempt, 16)
	d = d/2 + rand.N(d/2+1) // jitter spreads clients that failed together
	return min(d, c.cfg.MaxBackoff)
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, 3600)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// retryAfterKey holds, in a request's context, where headerRecorder writes
// the response's Retry-After: go-openai's errors do not carry headers.
type retryAfterKey struct{}

type headerRecorder struct{ next goopenai.HTTPDoer }

func (h headerRecorder) Do(req *http.Request) (*http.Response, error) {
	resp, err := h.next.Do(req)
	if resp != nil {
		if p, ok := req.Context().Value(retryAfterKey{}).(*string); ok {
			*p = resp.Header.Get("Retry-After")
		}
	}
	return resp, err
}
