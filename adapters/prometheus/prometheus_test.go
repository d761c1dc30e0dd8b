package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantLines(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, l+"\n") {
			t.Errorf("metrics lack %q", l)
		}
	}
}

func TestServiceOutcomes(t *testing.T) {
	m := New(func() int { return 3 })
	var logs bytes.Buffer
	log := slog.New(m.LogHandler(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		if string(img) == "pdf" {
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrNotImage)
		}
		desc := bottest.DefaultDescription
		desc.EncoderTime, desc.DecoderTime, desc.Total = 20*time.Millisecond, 30*time.Millisecond, 50*time.Millisecond
		desc.DecodeTime = 5 * time.Millisecond
		return desc, nil
	}}
	svc := bot.NewService(m.Describer(d), m.Refiner(&bottest.Refiner{}, false), &bottest.Preferences{})
	svc.Workers = 1
	svc.Log = log
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan bot.Result, 3)
	for i, img := range []string{"jpeg", "pdf", "jpeg2"} {
		err := svc.Submit(bot.Job{Platform: []string{"telegram", "discord", "matrix"}[i], UserID: "secret-user-42", ChatID: "secret-user-42",
			Fetch:   func(context.Context) ([]byte, error) { return []byte(img), nil },
			Deliver: func(_ context.Context, r bot.Result) error { done <- r; return nil }})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		<-done
	}
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.Refused("web", "rate_limited")
	text := scrape(t, m)
	wantLines(t, text,
		`captionbot_photos_total{outcome="sent",platform="telegram"} 1`,
		`captionbot_photos_total{outcome="refused",platform="discord"} 1`,
		`captionbot_photos_total{outcome="sent",platform="other"} 1`,
		`captionbot_refusals_total{platform="discord",reason="not_image"} 1`,
		`captionbot_refusals_total{platform="web",reason="rate_limited"} 1`,
		`captionbot_stage_seconds_count{stage="encoder"} 2`,
		`captionbot_stage_seconds_count{stage="decoder"} 2`,
		`captionbot_stage_seconds_count{stage="describe"} 2`,
		`captionbot_stage_seconds_count{stage="refine"} 2`,
		`captionbot_stage_seconds_count{stage="total"} 2`,
		`captionbot_stage_seconds_count{stage="download"} 2`,
		`captionbot_stage_seconds_count{stage="decode"} 2`,
		`captionbot_stage_seconds_count{stage="deliver"} 2`,
		`captionbot_queue_depth 3`)
	if strings.Contains(text, "secret") {
		t.Error("an ID reached the metrics")
	}
	if strings.Contains(logs.String(), "caption sent") {
		t.Error("info lines passed a warn-level log")
	}
}

func TestFallbacks(t *testing.T) {
	m := New(nil)
	offline := &bottest.Refiner{RefineFunc: func(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
		return bot.Post{Text: "x", WrittenBy: "offline"}, nil
	}}
	ctx := context.Background()
	m.Refiner(offline, true).Refine(ctx, bot.RefineRequest{})  // the LLM failed over
	m.Refiner(offline, false).Refine(ctx, bot.RefineRequest{}) // no LLM configured
	m.Fallback(offline).Refine(ctx, bot.RefineRequest{})
	llm := &bottest.Refiner{RefineFunc: func(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
		return bot.Post{Text: "x", WrittenBy: "openai"}, nil
	}}
	m.Refiner(llm, true).Refine(ctx, bot.RefineRequest{})
	wantLines(t, scrape(t, m),
		`captionbot_llm_calls_total{result="fallback"} 1`,
		`captionbot_llm_calls_total{result="ok"} 1`,
		`captionbot_llm_fallbacks_total{reason="llm_error"} 1`,
		`captionbot_llm_fallbacks_total{reason="queue_wait"} 1`,
		`captionbot_stage_seconds_count{stage="refine"} 4`)
}

// A button press (the same photo again) is written from the cached
// description and counts as a cache hit.
func TestCacheHits(t *testing.T) {
	m := New(nil)
	log := slog.New(m.LogHandler(slog.NewTextHandler(io.Discard, nil)))
	svc := bot.NewService(m.Describer(&bottest.Describer{}), m.Refiner(&bottest.Refiner{}, false), &bottest.Preferences{})
	svc.Workers = 1
	svc.Log = log
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		done := make(chan bot.Result, 1)
		if err := svc.Submit(bot.Job{Platform: "telegram", UserID: "1", ChatID: "1", PhotoKey: "p1",
			Fetch:   func(context.Context) ([]byte, error) { return []byte("jpeg"), nil },
			Deliver: func(_ context.Context, r bot.Result) error { done <- r; return nil }}); err != nil {
			t.Fatal(err)
		}
		<-done
	}
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantLines(t, scrape(t, m), `captionbot_cache_hits_total 1`, `captionbot_stage_seconds_count{stage="download"} 1`)
}

func TestReasonCode(t *testing.T) {
	for err, want := range map[error]string{
		&bot.RateLimitError{Scope: "user"}:       "rate_limited",
		fmt.Errorf("x: %w", bot.ErrCorruptImage): "corrupt_image",
		&bot.FileTooLargeError{Limit: 1}:         "too_large",
		fmt.Errorf("waited: %w", bot.ErrBusy):    "busy",
		fmt.Errorf("chat text: hello"):           "other",
	} {
		if got := ReasonCode(err); got != want {
			t.Errorf("%v: %s, want %s", err, got, want)
		}
	}
}

// The chat adapters' failed API calls count by platform and what followed.
func TestPlatformAPIErrors(t *testing.T) {
	m := New(nil)
	log := slog.New(m.LogHandler(slog.NewTextHandler(io.Discard, nil)))
	tg := log.With("platform", "telegram")
	tg.Warn("telegram call failed, retrying", "method", "sendMessage")
	tg.Warn("telegram call failed, retrying", "method", "getFile")
	tg.Error("reply failed", "chat", "secret-chat-9")
	log.With("platform", "discord").Error("answer interaction", "interaction", "1")
	text := scrape(t, m)
	wantLines(t, text,
		`captionbot_platform_api_errors_total{outcome="retried",platform="telegram"} 2`,
		`captionbot_platform_api_errors_total{outcome="failed",platform="telegram"} 1`,
		`captionbot_platform_api_errors_total{outcome="failed",platform="discord"} 1`)
	if strings.Contains(text, "secret") {
		t.Error("a chat ID reached the metrics")
	}
}
