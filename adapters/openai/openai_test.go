package openai

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	goopenai "github.com/sashabaranov/go-openai"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

const testKey = "sk-test-0123456789abcdef"

func newTestClient(t *testing.T, f *fakeServer, edit func(*Config)) *Client {
	t.Helper()
	cfg := Config{
		BaseURL:     f.baseURL(),
		APIKey:      testKey,
		Model:       "test-model",
		Timeout:     2 * time.Second,
		MaxRetries:  2,
		BaseBackoff: 5 * time.Millisecond,
		MaxBackoff:  20 * time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var dogRequest = bot.RefineRequest{
	Description: bot.Description{
		Caption: "a dog runs through the grass",
		Labels:  []bot.Label{{Label: "golden retriever", Score: 0.7}},
	},
	Network:  "instagram",
	Tone:     "fun",
	Language: "en",
	Hashtags: 5,
	Hint:     "first walk of spring",
}

func TestWriteGoodJSON(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answerJSON(w, "Spring zoomies! 🐶", []string{"#dog", "#spring"}, "A golden dog running on grass.")
	})
	c := newTestClient(t, f, nil)
	p, err := c.Write(context.Background(), dogRequest)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Post{Body: "Spring zoomies! 🐶", Hashtags: []string{"#dog", "#spring"}, AltText: "A golden dog running on grass.", Network: "instagram", WrittenBy: "openai"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("post (-want +got):\n%s", diff)
	}

	// What was sent.
	got := f.request(0)
	if got.Auth != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got.Auth)
	}
	if got.Req.Model != "test-model" {
		t.Errorf("model = %q", got.Req.Model)
	}
	n, _ := prompts.Lookup("instagram")
	wantPrompt, err := prompts.Render(n, prompts.Input{
		Caption: "a dog runs through the grass", Labels: []string{"golden retriever"},
		Tone: "fun", Language: "en", Hashtags: 5, Hint: "first walk of spring",
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := got.Req.Messages
	if len(msgs) != 2 || msgs[0].Role != "system" || msgs[1].Role != "user" {
		t.Fatalf("messages = %+v", msgs)
	}
	if msgs[0].Content != wantPrompt.System || msgs[1].Content != wantPrompt.User {
		t.Errorf("messages differ from the rendered prompt:\n%s", cmp.Diff(wantPrompt, prompts.Prompt{System: msgs[0].Content, User: msgs[1].Content}))
	}
	rf := got.Raw["response_format"].(map[string]any)
	if rf["type"] != "json_schema" {
		t.Fatalf("response_format = %v", rf)
	}
	schema := rf["json_schema"].(map[string]any)
	if schema["name"] != "post" || schema["strict"] != true {
		t.Errorf("json_schema = %v", schema)
	}
	props := schema["schema"].(map[string]any)["properties"].(map[string]any)
	for _, k := range []string{"caption", "hashtags", "alt_text"} {
		if _, ok := props[k]; !ok {
			t.Errorf("schema lacks %q: %v", k, props)
		}
	}
	if _, ok := got.Raw["temperature"]; ok {
		t.Errorf("temperature sent although not configured: %v", got.Raw["temperature"])
	}
}

func TestWriteNoKeyForLocalServers(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answerJSON(w, "A dog.", nil, "A dog.")
	})
	c := newTestClient(t, f, func(c *Config) { c.APIKey = "" })
	if _, err := c.Write(context.Background(), dogRequest); err != nil {
		t.Fatal(err)
	}
	if auth := f.request(0).Auth; auth != "" {
		t.Errorf("Authorization = %q without a key", auth)
	}
}

func TestWritePlainText(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answer(w, "Caption: \"Spring zoomies in the park!\"\nHashtags: #dog, #spring\nAlt text: A dog running on grass.")
	})
	p, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest)
	if err != nil {
		t.Fatal(err)
	}
	want := bot.Post{Body: "Spring zoomies in the park!", Hashtags: []string{"#dog", "#spring"}, AltText: "A dog running on grass.", Network: "instagram", WrittenBy: "openai"}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestWriteFormatFallback: a server that rejects response formats gets JSON
// mode, then plain text, and the client remembers.
func TestWriteFormatFallback(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, body recorded) {
		if body.Req.ResponseFormat != nil {
			fail(w, http.StatusBadRequest, "response_format is not supported")
			return
		}
		answer(w, "A dog in spring grass.\n#dog #spring")
	})
	c := newTestClient(t, f, nil)
	p, err := c.Write(context.Background(), dogRequest)
	if err != nil {
		t.Fatal(err)
	}
	if p.Body != "A dog in spring grass." || len(p.Hashtags) != 2 {
		t.Errorf("post = %+v", p)
	}
	if f.count() != 3 {
		t.Fatalf("%d requests, want 3 (schema, json_object, text)", f.count())
	}
	if rf := f.request(1).Req.ResponseFormat; rf == nil || rf.Type != goopenai.ChatCompletionResponseFormatTypeJSONObject {
		t.Errorf("second request format = %+v", rf)
	}
	if _, err := c.Write(context.Background(), dogRequest); err != nil {
		t.Fatal(err)
	}
	if f.count() != 4 {
		t.Errorf("%d requests after the second post, want 4: the fallback is not remembered", f.count())
	}
}

func TestWriteRetryAfter429(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ recorded) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			fail(w, http.StatusTooManyRequests, "rate limited")
			return
		}
		answerJSON(w, "A dog.", []string{"#dog"}, "A dog.")
	})
	c := newTestClient(t, f, nil)
	start := time.Now()
	p, err := c.Write(context.Background(), dogRequest)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, Retry-After said 1s", d)
	}
	if p.Body != "A dog." || f.count() != 2 {
		t.Errorf("post %+v after %d requests", p, f.count())
	}
}

func TestWriteRetryAfterPastDeadline(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		w.Header().Set("Retry-After", "30")
		fail(w, http.StatusTooManyRequests, "slow down")
	})
	c := newTestClient(t, f, func(c *Config) { c.Timeout = 500 * time.Millisecond })
	start := time.Now()
	_, err := c.Write(context.Background(), dogRequest)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 429 {
		t.Fatalf("error = %v, want status 429", err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("waited %v for a retry that could not happen before the deadline", d)
	}
	if f.count() != 1 {
		t.Errorf("%d requests, want 1", f.count())
	}
}

func TestWrite5xx(t *testing.T) {
	t.Run("recovers", func(t *testing.T) {
		f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ recorded) {
			switch n {
			case 1:
				fail(w, http.StatusInternalServerError, "boom")
			case 2:
				http.Error(w, "bad gateway", http.StatusBadGateway)
			default:
				answerJSON(w, "A dog.", nil, "A dog.")
			}
		})
		if _, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest); err != nil {
			t.Fatal(err)
		}
		if f.count() != 3 {
			t.Errorf("%d requests, want 3", f.count())
		}
	})
	t.Run("honours Retry-After", func(t *testing.T) {
		f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ recorded) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				fail(w, http.StatusServiceUnavailable, "overloaded")
				return
			}
			answerJSON(w, "A dog.", nil, "A dog.")
		})
		start := time.Now()
		if _, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest); err != nil {
			t.Fatal(err)
		}
		// Without Retry-After the backoff would be at most MaxBackoff (20ms).
		if d := time.Since(start); d < 900*time.Millisecond || f.count() != 2 {
			t.Errorf("retried after %v and %d requests; Retry-After said 1s", d, f.count())
		}
	})
	t.Run("gives up", func(t *testing.T) {
		f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
			fail(w, http.StatusServiceUnavailable, "overloaded")
		})
		_, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 503 || !e.Retryable {
			t.Fatalf("error = %#v", err)
		}
		if f.count() != 3 {
			t.Errorf("%d requests, want 1 + MaxRetries = 3", f.count())
		}
	})
	t.Run("no retries configured", func(t *testing.T) {
		f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
			fail(w, http.StatusInternalServerError, "boom")
		})
		if _, err := newTestClient(t, f, func(c *Config) { c.MaxRetries = 0 }).Write(context.Background(), dogRequest); err == nil {
			t.Fatal("no error")
		}
		if f.count() != 1 {
			t.Errorf("%d requests, want 1", f.count())
		}
	})
}

func TestWriteErrorsHideKey(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ recorded) {
		// Servers do echo keys: OpenAI's 401 names a masked key.
		fail(w, http.StatusUnauthorized, "Incorrect API key provided: "+r.Header.Get("Authorization")+" and sk-test***cdef")
	})
	_, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 401 || e.Retryable {
		t.Fatalf("error = %v", err)
	}
	if f.count() != 1 {
		t.Errorf("%d requests: a 401 is not worth retrying", f.count())
	}
	for _, secret := range []string{testKey, "sk-test", "cdef"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks %q: %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Errorf("error lost the server's words: %v", err)
	}
}

func TestWriteTimeout(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ recorded) {
		select {
		case <-r.Context().Done():
		case <-time.After(3 * time.Second):
		}
		answerJSON(w, "Too late.", nil, "")
	})
	c := newTestClient(t, f, func(c *Config) { c.Timeout = 150 * time.Millisecond })
	start := time.Now()
	_, err := c.Write(context.Background(), dogRequest)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("returned after %v with a 150ms timeout", d)
	}
}

func TestWriteBadAnswers(t *testing.T) {
	for name, respond := range map[string]func(w http.ResponseWriter){
		"malformed JSON": func(w http.ResponseWriter) { answer(w, `{"caption": "A dog", "hashtags": [`) },
		"empty answer":   func(w http.ResponseWriter) { answer(w, "   ") },
		"no caption":     func(w http.ResponseWriter) { answer(w, `{"caption": "", "hashtags": ["#dog"]}`) },
		"no choices": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"id":"x","object":"chat.completion","choices":[]}`)
		},
		"refusal": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"","refusal":"I can't help with that."}}]}`)
		},
		"content filter": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"choices":[{"index":0,"finish_reason":"content_filter","message":{"role":"assistant","content":"{}"}}]}`)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) { respond(w) })
			_, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest)
			if !errors.Is(err, ErrBadReply) && !errors.Is(err, ErrRefused) {
				t.Errorf("error = %v, want ErrBadReply or ErrRefused", err)
			}
		})
	}
}

func TestWriteVariant(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answerJSON(w, "A dog.", nil, "A dog.")
	})
	c := newTestClient(t, f, func(c *Config) { c.Temperature = 0.5 })
	req := dogRequest
	for _, v := range []int{0, 1} {
		req.Variant = v
		if _, err := c.Write(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	first, second := f.request(0), f.request(1)
	if first.Req.Temperature != 0.5 || second.Req.Temperature <= first.Req.Temperature {
		t.Errorf("temperatures %v then %v, want 0.5 then higher", first.Req.Temperature, second.Req.Temperature)
	}
	if strings.Contains(first.Req.Messages[1].Content, "another version") || !strings.Contains(second.Req.Messages[1].Content, "another version") {
		t.Errorf("variant not asked for:\n%s", second.Req.Messages[1].Content)
	}
}

func TestWriteSendImage(t *testing.T) {
	photo := testPNG(t, 1600, 900)
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answerJSON(w, "A dog.", nil, "A dog.")
	})
	req := dogRequest
	req.Image = photo

	// Downscaling a 1600x900 photo is CPU work inside Write's deadline; under
	// -race on a busy machine it can take seconds, which is not what this
	// test is about.
	slow := func(c *Config) { c.Timeout = time.Minute }
	withImage := func(c *Config) { slow(c); c.SendImage = true }

	// send_image off: text only, even with a photo.
	if _, err := newTestClient(t, f, slow).Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if m := f.request(0).Req.Messages[1]; len(m.MultiContent) != 0 || m.Content == "" {
		t.Errorf("image sent without send_image: %+v", m)
	}

	if _, err := newTestClient(t, f, withImage).Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	parts := f.request(1).Req.Messages[1].MultiContent
	if len(parts) != 2 || parts[0].Type != "text" || parts[1].Type != "image_url" || parts[1].ImageURL == nil {
		t.Fatalf("parts = %+v", parts)
	}
	if !strings.Contains(parts[0].Text, "a dog runs through the grass") {
		t.Errorf("text part = %q", parts[0].Text)
	}
	url := parts[1].ImageURL.URL
	const prefix = "data:image/jpeg;base64,"
	if !strings.HasPrefix(url, prefix) {
		t.Fatalf("image URL = %.40q", url)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, prefix))
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 288 {
		t.Errorf("sent %dx%d, want 512x288", b.Dx(), b.Dy())
	}

	// An unreadable photo goes without its image part.
	req.Image = []byte("not an image")
	if _, err := newTestClient(t, f, withImage).Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if m := f.request(2).Req.Messages[1]; len(m.MultiContent) != 0 {
		t.Errorf("sent an image part for bytes that are no image")
	}
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestNewRejects(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no model": {BaseURL: "http://localhost:11434/v1"},
		"bad URL":  {Model: "m", BaseURL: "localhost:11434"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     bot.Post
	}{
		{"json", `{"caption":"A dog.","hashtags":["#dog"],"alt_text":"Dog."}`,
			bot.Post{Body: "A dog.", Hashtags: []string{"#dog"}, AltText: "Dog."}},
		{"fenced json with extra fields", "```json\n{\"caption\":\"A dog.\",\"hashtags\":\"#dog #grass\",\"mood\":\"happy\",\"Text\":\"x\"}\n```",
			bot.Post{Body: "A dog.", Hashtags: []string{"#dog", "#grass"}}},
		{"quoted inside JSON", `{"caption":"\"Spring zoomies!\"","hashtags":["dog"],"alt_text":"“A dog.”"}`,
			bot.Post{Body: "Spring zoomies!", Hashtags: []string{"dog"}, AltText: "A dog."}},
		{"wrong types dropped", `{"caption":"A dog.","hashtags":[1,"#ok",null],"alt_text":{"x":1}}`,
			bot.Post{Body: "A dog.", Hashtags: []string{"#ok"}}},
		{"plain", "Spring zoomies!\n\n#dog #spring",
			bot.Post{Body: "Spring zoomies!", Hashtags: []string{"#dog", "#spring"}}},
		{"plain labelled", "**Caption:** “A dog in the park.”\n**Alt text:** A dog.\n**Hashtags:** #dog #park",
			bot.Post{Body: "A dog in the park.", Hashtags: []string{"#dog", "#park"}, AltText: "A dog."}},
		{"plain two paragraphs", "A dog.\n\nIt runs.",
			bot.Post{Body: "A dog.\n\nIt runs."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseReply(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{`{"caption":"a"}`, "```json\n{}\n```", "Caption: x\nAlt: y", "#a #b", "", "{", "[1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseReply(s)
		if err == nil && strings.TrimSpace(p.Body) == "" && !strings.HasPrefix(strings.TrimSpace(s), "#") && strings.Contains(s, "{") {
			// Plain text may legitimately be only hashtags; JSON may not.
			if strings.HasPrefix(trimFence(strings.TrimSpace(s)), "{") {
				t.Fatalf("JSON without a caption accepted: %q", s)
			}
		}
	})
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"99999", time.Hour, true},
		{"Thu, 01 Jan 2026 12:00:05 GMT", 5 * time.Second, true},
		{"Thu, 01 Jan 2026 11:00:00 GMT", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	c := &Client{cfg: Config{BaseBackoff: 100 * time.Millisecond, MaxBackoff: time.Second}}
	for attempt, hi := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		hi *= time.Millisecond
		d := c.backoff(attempt, "")
		if d < hi/2 || d > hi {
			t.Errorf("backoff(%d) = %v, want in [%v, %v]", attempt, d, hi/2, hi)
		}
	}
	if d := c.backoff(0, "7"); d != 7*time.Second {
		t.Errorf("Retry-After 7 gave %v", d)
	}
}

func TestRedact(t *testing.T) {
	c := &Client{cfg: Config{APIKey: "my-local-secret"}}
	in := `bad key my-local-secret; Authorization: Bearer abc.def; {"api_key": "zzz"} sk-proj-AbC123*** ` + strings.Repeat("x", 300)
	got := c.redact(in)
	for _, s := range []string{"my-local-secret", "abc.def", "zzz", "AbC123"} {
		if strings.Contains(got, s) {
			t.Errorf("redact left %q in %q", s, got)
		}
	}
	if n := len([]rune(got)); n > maxMessage+1 {
		t.Errorf("message %d runes long", n)
	}
}

// TestWriteOtherBadRequest: a 400 that is not about the response format
// fails at once and keeps structured output for the next post.
func TestWriteOtherBadRequest(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		fail(w, http.StatusBadRequest, "model 'nope' not found")
	})
	c := newTestClient(t, f, nil)
	_, err := c.Write(context.Background(), dogRequest)
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != 400 || e.Retryable {
		t.Fatalf("error = %v", err)
	}
	if f.count() != 1 || c.format.Load() != formatSchema {
		t.Errorf("%d requests, format %d: want 1 request and the schema kept", f.count(), c.format.Load())
	}
}

func TestWriteNotAnAPI(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>Welcome to nginx!</body></html>")
	})
	_, err := newTestClient(t, f, nil).Write(context.Background(), dogRequest)
	var e *Error
	if !errors.As(err, &e) || e.Retryable || !strings.Contains(err.Error(), "base_url") {
		t.Fatalf("error = %v", err)
	}
	if f.count() != 1 {
		t.Errorf("%d requests: an HTML page is not worth retrying", f.count())
	}
}

// TestWriteSendImageDecoder: Config.DecodeImage decodes the photo (cmd
// passes captioner.DecodeImage, which applies EXIF orientation).
func TestWriteSendImageDecoder(t *testing.T) {
	f := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ recorded) {
		answerJSON(w, "A dog.", nil, "A dog.")
	})
	var got []byte
	decode := func(photo []byte) (image.Image, error) {
		got = photo
		return image.NewGray(image.Rect(0, 0, 300, 600)), nil // "rotated" portrait
	}
	req := dogRequest
	req.Image = []byte("raw photo bytes")
	// Encoding the 300x600 JPEG is CPU work inside Write's deadline, which a
	// busy machine under -race can stretch past the test client's 2s.
	c := newTestClient(t, f, func(c *Config) { c.SendImage, c.DecodeImage, c.Timeout = true, decode, time.Minute })
	if _, err := c.Write(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if string(got) != "raw photo bytes" {
		t.Errorf("decoder got %q", got)
	}
	url := f.request(0).Req.Messages[1].MultiContent[1].ImageURL.URL
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/jpeg;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width != 256 || cfg.Height != 512 {
		t.Errorf("sent %dx%d (%v), want 256x512", cfg.Width, cfg.Height, err)
	}
}
