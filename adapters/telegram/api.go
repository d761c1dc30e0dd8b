package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/captionbot/captionbot/bot"
)

// ctxClient binds one request's context to the library's HTTP calls: the
// library builds requests without a context, so this is how a long poll or
// a send is cancelled. When trace is set, it records what became of the
// request.
type ctxClient struct {
	ctx   context.Context
	c     *http.Client
	trace *reqTrace
}

// reqTrace is what became of one request: whether it was written out in
// full (the server may have acted on it) and the HTTP status that came back
// (0: none).
type reqTrace struct {
	wrote  atomic.Bool
	status atomic.Int32
}

// unknownOutcome reports whether the server may have acted on the request
// although no Bot API answer says so: it was written, and then either no
// response came, or a 200 whose body was lost.
func (t *reqTrace) unknownOutcome() bool {
	s := t.status.Load()
	return t.wrote.Load() && (s == 0 || s == http.StatusOK)
}

func (c ctxClient) Do(req *http.Request) (*http.Response, error) {
	ctx := c.ctx
	if c.trace != nil {
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(i httptrace.WroteRequestInfo) {
				if i.Err == nil {
					c.trace.wrote.Store(true)
				}
			},
		})
	}
	resp, err := c.c.Do(req.WithContext(ctx))
	if c.trace != nil && resp != nil {
		c.trace.status.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// with returns a shallow copy of the API client whose requests use ctx.
func (b *Bot) with(ctx context.Context) *tgbotapi.BotAPI {
	api := *b.api
	api.Client = ctxClient{ctx: ctx, c: b.httpClient}
	return &api
}

// withTrace is with, recording in tr what became of each request.
func (b *Bot) withTrace(ctx context.Context, tr *reqTrace) *tgbotapi.BotAPI {
	api := *b.api
	api.Client = ctxClient{ctx: ctx, c: b.httpClient, trace: tr}
	return &api
}

// ErrUnknownOutcome: a request that is not safe to repeat (sendMessage) was
// sent, but no answer came back (the connection dropped, a timeout): the
// message may or may not have been posted. It is not retried, so that no
// reply is posted twice.
var ErrUnknownOutcome = errors.New("request sent but no answer came back; not repeated")

// errUnreachable marks a failure that outlasted the retries: Telegram (or
// the network to it) was down, not the request wrong.
var errUnreachable = errors.New("telegram unreachable")

// patienceKey is the context key of a retry deadline (withPatience).
type patienceKey struct{}

// withPatience makes calls under ctx retry transient failures until until
// (or until ctx ends), however many attempts that takes, instead of
// MaxRetries times: photo jobs use it to ride out an outage.
func withPatience(ctx context.Context, until time.Time) context.Context {
	return context.WithValue(ctx, patienceKey{}, until)
}

// patience returns the retry deadline set by withPatience, if any.
func patience(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(patienceKey{}).(time.Time)
	return t, ok
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
// times, or until the deadline of withPatience. It stops when ctx ends. The
// returned error never contains the token (the library's errors quote the
// URL); a transient failure that outlasted the retries wraps errUnreachable.
func (b *Bot) call(ctx context.Context, what string, fn func(api *tgbotapi.BotAPI) error) error {
	return b.callTraced(ctx, what, false, func(api *tgbotapi.BotAPI) error { return fn(api) })
}

// callTraced is call; when once is true (a request not safe to repeat), a
// failure after the request was written out without a Bot API answer (see
// reqTrace.unknownOutcome) is not retried but returned as
// ErrUnknownOutcome. An HTTP error status (a proxy's 502 page) counts as an
// answer: the request was not carried out.
func (b *Bot) callTraced(ctx context.Context, what string, once bool, fn func(api *tgbotapi.BotAPI) error) error {
	until, patient := patience(ctx)
	var err error
	for attempt := 0; ; attempt++ {
		var tr reqTrace
		err = fn(b.withTrace(ctx, &tr))
		if err == nil {
			return nil
		}
		var apiErr *tgbotapi.Error
		if once && tr.unknownOutcome() && !errors.As(err, &apiErr) {
			return fmt.Errorf("%s: %w (%w)", what, ErrUnknownOutcome, b.redact(err))
		}
		wait, ok := retryable(err)
		if ctx.Err() != nil {
			if ok {
				return fmt.Errorf("%s: %w: %w (last error: %w)", what, errUnreachable, ctx.Err(), b.redact(err))
			}
			return fmt.Errorf("%s: %w", what, ctx.Err())
		}
		if !ok {
			break
		}
		if wait == 0 {
			wait = b.backoff(attempt)
		}
		if patient {
			left := time.Until(until)
			if left <= 0 {
				return fmt.Errorf("%s: %w: %w", what, errUnreachable, b.redact(err))
			}
			wait = min(wait, left)
		} else if attempt >= b.MaxRetries {
			return fmt.Errorf("%s: %w: %w", what, errUnreachable, b.redact(err))
		}
		b.log().Warn("telegram call failed, retrying", "method", what, "err", b.redact(err), "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return fmt.Errorf("%s: %w: %w (last error: %w)", what, errUnreachable, ctx.Err(), b.redact(err))
		}
	}
	return fmt.Errorf("%s: %w", what, b.redact(err))
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
	// A new message posted twice is a duplicate; an edit, a chat action or
	// a callback answer repeated is harmless.
	_, once := c.(tgbotapi.MessageConfig)
	err := b.callTraced(ctx, "send", once, func(api *tgbotapi.BotAPI) error {
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

// redact hides the bot token that net/http errors quote in URLs.
func (b *Bot) redact(err error) error { return bot.Redact(err, b.api.Token) }

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
