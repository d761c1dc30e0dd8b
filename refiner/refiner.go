// Package refiner turns a captioner's raw sentence into a post for a social
// network. WithFallback is captionbot's bot.Refiner: it asks a Writer (an LLM
// client such as adapters/openai) for a draft within a deadline, strips
// assistant talk from it ("Sure! Here is a caption:", wrapping quotes),
// enforces the network's limits on it (Enforce), checks its safety
// (CheckSafety) and that it holds no link, domain, e-mail address, phone
// number or @handle (ErrNotPublishable) and, when anything fails — no writer,
// timeout, server error, malformed or empty answer, unsafe or unpublishable
// text — returns the Offline refiner's post instead, marked
// WrittenBy "offline". A user never gets an error because an LLM is down.
package refiner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// DefaultTimeout is how long Refiner waits for a Writer.
const DefaultTimeout = 20 * time.Second

// Writer drafts a post with an LLM. The draft's Body, Hashtags, AltText
// and WrittenBy (the writer's name, e.g. "openai") are used; Refiner enforces
// limits and safety, so a Writer need not. It receives a request whose Tone
// and Language are normalised and whose Hashtags is the resolved count.
type Writer interface {
	Write(ctx context.Context, req bot.RefineRequest) (bot.Post, error)
}

// WithFallback is the bot.Refiner: a Writer with the offline fallback.
type WithFallback struct {
	writer Writer

	// Offline writes the fallback post; its zero value is ready.
	Offline Offline
	// Timeout bounds the Writer; zero means DefaultTimeout. A sooner
	// deadline on the caller's context wins.
	Timeout time.Duration
	// Log receives one record per post; nil means slog.Default().
	Log *slog.Logger
}

var _ bot.Refiner = (*WithFallback)(nil)

// New returns a Refiner that asks w first. A nil w means offline only.
func New(w Writer) *WithFallback {
	return &WithFallback{writer: w}
}

// Refine returns a post for req. Its only errors are a bad request (unknown
// network, tone or language: errors wrapping the prompts sentinels) and a
// context already done before it starts.
func (r *WithFallback) Refine(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	if err := ctx.Err(); err != nil {
		return bot.Post{}, err
	}
	n, req, err := resolve(req)
	if err != nil {
		return bot.Post{}, err
	}
	start := time.Now()
	offline := r.Offline.write(n, req)
	if r.writer == nil {
		r.log().Info("post refined", "refiner", OfflineName, "network", n.Name, "variant", req.Variant)
		return offline, nil
	}
	post, err := r.draft(ctx, n, req, offline)
	if err != nil {
		r.log().Warn("llm refiner failed, sent the offline post",
			"refiner", OfflineName, "network", n.Name, "variant", req.Variant,
			"dur", time.Since(start).Round(time.Millisecond), "err", err)
		return offline, nil
	}
	r.log().Info("post refined", "refiner", post.WrittenBy, "network", n.Name, "variant", req.Variant,
		"dur", time.Since(start).Round(time.Millisecond))
	return post, nil
}

// Reasons a draft is not used; they reach logs only.
var (
	errEmptyDraft   = errors.New("empty draft")
	errUnnamedDraft = errors.New("draft does not name its writer")
)

// draft asks the writer within the deadline and returns its enforced, safe
// post, or why not.
func (r *WithFallback) draft(ctx context.Context, n prompts.Network, req bot.RefineRequest, offline bot.Post) (bot.Post, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type result struct {
		post bot.Post
		err  error
	}
	done := make(chan result, 1) // buffered: a late writer never blocks
	go func() {
		defer func() {
			// A writer that panics is one more failed LLM, not a crash.
			if v := recover(); v != nil {
				done <- result{err: fmt.Errorf("writer panicked: %v", v)}
			}
		}()
		wreq := req
		wreq.Description.Labels = writerLabels(req.Description.Labels)
		if grounded(req.Description) {
			// The writer gets the grounded facts only: the caption, the
			// supported subjects and the labels sure enough to name.
			wreq.Description.Labels = writerLabels(confidentLabels(req.Description.Labels))
			wreq.Description.Subjects = statedSubjects(req.Description)
		}
		p, err := r.writer.Write(ctx, wreq)
		done <- result{p, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		// The writer has the same context and will stop; don't wait for it.
		return bot.Post{}, ctx.Err()
	}
	if res.err != nil {
		return bot.Post{}, res.err
	}
	if res.post.WrittenBy == "" || res.post.WrittenBy == OfflineName {
		return bot.Post{}, errUnnamedDraft
	}
	// Checked before Enforce too: it turns "@handle" hashtags into
	// "#handle" and may cut a link in half.
	draft := cleanDraft(res.post)
	if err := checkPublishable(draft); err != nil {
		return bot.Post{}, err
	}
	post := Enforce(n, draft, req.Hashtags)
	if strings.TrimSpace(post.Body) == "" {
		return bot.Post{}, errEmptyDraft
	}
	if post.AltText == "" {
		post.AltText = offline.AltText
	}
	if err := CheckSafety(post, source(req)); err != nil {
		return bot.Post{}, err
	}
	if err := checkPublishable(post); err != nil {
		return bot.Post{}, err
	}
	return post, nil
}

// source is what a post may draw claims from: the caption, labels and hint.
func source(req bot.RefineRequest) string {
	parts := []string{req.Description.Caption, req.Hint}
	for _, l := range req.Description.Labels {
		parts = append(parts, l.Label)
	}
	return strings.Join(parts, " ")
}

func (r *WithFallback) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}
