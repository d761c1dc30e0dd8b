package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	goopenai "github.com/sashabaranov/go-openai"
)

// Errors for answers that are not a post.
var (
	// ErrBadReply: the answer was empty, had no choices, or was malformed.
	ErrBadReply = errors.New("unusable reply")
	// ErrRefused: the model refused or the server's content filter stopped it.
	ErrRefused = errors.New("model refused")
)

// Error is a failed call to the server. Its text never contains the API key:
// the server's message is redacted and cut short.
type Error struct {
	// StatusCode is the HTTP status, or 0 when no response came.
	StatusCode int
	// Message says what went wrong, redacted.
	Message string
	// Retryable: 408, 429, 5xx and network errors are worth another try.
	Retryable bool
	// ctxErr is the context's error when the call timed out or was
	// cancelled; Unwrap returns it so errors.Is(err, context.DeadlineExceeded)
	// works. Other causes are not kept, as their text may hold secrets.
	ctxErr error
}

func (e *Error) Error() string {
	if e.StatusCode > 0 {
		return fmt.Sprintf("openai: status %d: %s", e.StatusCode, e.Message)
	}
	return "openai: " + e.Message
}

func (e *Error) Unwrap() error { return e.ctxErr }

// wrap turns an error from go-openai into an *Error.
func (c *Client) wrap(ctx context.Context, err error) *Error {
	if ctxErr := ctx.Err(); ctxErr != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		if ctxErr == nil {
			ctxErr = context.DeadlineExceeded
			if errors.Is(err, context.Canceled) {
				ctxErr = context.Canceled
			}
		}
		msg := "request timed out"
		if errors.Is(ctxErr, context.Canceled) {
			msg = "request cancelled"
		}
		return &Error{Message: msg, ctxErr: ctxErr}
	}
	var (
		apiErr    *goopenai.APIError
		reqErr    *goopenai.RequestError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		e         = &Error{}
	)
	switch {
	case errors.As(err, &apiErr):
		e.StatusCode, e.Message = apiErr.HTTPStatusCode, apiErr.Message
	case errors.As(err, &reqErr):
		e.StatusCode, e.Message = reqErr.HTTPStatusCode, string(reqErr.Body)
		if e.Message == "" && reqErr.Err != nil {
			e.Message = reqErr.Err.Error()
		}
	case errors.As(err, &syntaxErr) || errors.As(err, &typeErr):
		// A 2xx answer that is not a completion: retrying will not help.
		e.Message = "the answer is not a chat completion (is base_url the server's /v1 API root?)"
		return e
	default:
		e.Message = err.Error()
		e.Retryable = true // no answer: connection refused, reset, EOF...
	}
	if e.StatusCode == 408 || e.StatusCode == 429 || e.StatusCode >= 500 {
		e.Retryable = true
	}
	e.Message = c.redact(e.Message)
	return e
}

// Secrets-looking words a server may echo back: bearer tokens and OpenAI-style
// keys, even partly masked ones ("sk-abc***xyz").
// Bearer tokens go first, so "Authorization: Bearer x" loses x too.
var secretPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)bearer\s+\S+`),
	regexp.MustCompile(`\bsk-[A-Za-z0-9_\-*.]{3,}`),
	regexp.MustCompile(`(?i)\b(?:api[_-]?key|authorization)["']?\s*[:=]\s*["']?[^\s"',}]+`),
}

// maxMessage is how much of a server's error message an Error keeps.
const maxMessage = 200

// redact removes the API key and anything that looks like a secret, and cuts
// the message short on one line.
func (c *Client) redact(msg string) string {
	if k := c.cfg.APIKey; len(k) >= 4 {
		msg = strings.ReplaceAll(msg, k, "[redacted]")
	}
	for _, re := range secretPatterns {
		msg = re.ReplaceAllString(msg, "[redacted]")
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage]) + "…"
	}
	if msg == "" {
		msg = "no message"
	}
	return msg
}
