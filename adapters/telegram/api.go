package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// ctxClient binds one request's context to the library's HTTP calls: the
// library builds requests without a context, so this is how a long poll or
// a send is cancelled.
type ctxClient struct {
	ctx context.Context
	c   *http.Client
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	return c.c.Do(req.WithContext(c.ctx))
}

// with returns a shallow copy of the API client whose requests use ctx.
func (b *Bot) with(ctx context.Context) *tgbotapi.BotAPI {
	api := *b.api
	api.Client = ctxClient{ctx: ctx, c: b.httpClient}
	return &api
}

// retryable classifies an API error: 429 says how long to wait; 5xx,
// network errors and undecodable answers (a proxy's HTML error page) are
// worth retrying with backoff; other 4xx are final.
func retryable(err error) (wait time.Duration, ok bool) {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == http.StatusTooManyRequests:
			return time.Duration(max(apiErr.RetryAfter, 1)) * time.Second, true
		case apiErr.Code >= 500:
			return 0, true
		}
		return 0, false
	}
	return 0, true
}

// backoff is the wait before retry attempt n (0-based): exponential from
// RetryBase, capped at RetryMax, with jitter.
func (b *Bot) backoff(n int) time.Duration {
	d := b.RetryBase << min(n, 16)
	if d <= 0 || d > b.RetryMax {
		d = b.RetryMax
	}
	return d/2 + rand.N(d/2+1)
}

// call runs fn against the API, retrying per retryable up to MaxRetries
// times. It stops when ctx ends. The returned error never contains the
// token (the library's errors quote the URL).
func (b *Bot) call(ctx context.Context, what string, fn func(api *tgbotapi.BotAPI) error) error {
	var err error
	for attempt := 0; ; attempt++ {
		err = fn(b.with(ctx))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		wait, ok := retryable(err)
		if !ok || attempt >= b.MaxRetries {
			break
		}
		if wait == 0 {
			wait = b.backoff(attempt)
		}
		b.log().Warn("telegram call failed, retrying", "method", what, "err", b.redact(err), "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
	}
	return fmt.Errorf("%s: %w", what, redactedError{err, b.api.Token})
}

// request is call for methods whose result is decoded into out (may be nil).
func (b *Bot) request(ctx context.Context, method string, params tgbotapi.Params, out any) error {
	return b.call(ctx, method, func(api *tgbotapi.BotAPI) error {
		resp, err := api.MakeRequest(method, params)
		if err != nil {
			return err
		}
		if out != nil {
			return json.Unmarshal(resp.Result, out)
		}
		return nil
	})
}

// send is call for Chattables. What is meant for a group that became a
// supergroup goes to the supergroup (see migrate.go).
func (b *Bot) send(ctx context.Context, c tgbotapi.Chattable) (tgbotapi.Message, error) {
	c, _ = b.retarget(c)
	msg, err := b.sendOnce(ctx, c)
	if to := migratedTo(err); to != 0 {
		if from, ok := chatOf(c); ok {
			b.migrate(ctx, from, to)
			if c, ok = b.retarget(c); ok {
				return b.sendOnce(ctx, c)
			}
		}
	}
	return msg, err
}

func (b *Bot) sendOnce(ctx context.Context, c tgbotapi.Chattable) (tgbotapi.Message, error) {
	var msg tgbotapi.Message
	err := b.call(ctx, "send", func(api *tgbotapi.BotAPI) error {
		resp, err := api.Request(c)
		if err != nil {
			return err
		}
		// Some methods (answerCallbackQuery, sendChatAction) return true.
		_ = json.Unmarshal(resp.Result, &msg)
		return nil
	})
	return msg, err
}

// redactedError hides the bot token that net/http errors quote in URLs.
type redactedError struct {
	err   error
	token string
}

func (e redactedError) Error() string {
	if e.token == "" {
		return e.err.Error()
	}
	return strings.ReplaceAll(e.err.Error(), e.token, "<token>")
}

func (e redactedError) Unwrap() error { return e.err }

func (b *Bot) redact(err error) error {
	if err == nil {
		return nil
	}
	return redactedError{err, b.api.Token}
}

// apiCode returns the Bot API error code in err, or 0.
func apiCode(err error) int {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return 0
}

// apiMessage returns the Bot API error description in err, or "".
func apiMessage(err error) string {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Message
	}
	return ""
}
