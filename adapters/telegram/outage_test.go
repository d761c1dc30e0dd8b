package telegram

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
)

// waitIdle waits until every dispatched update was finished or kept.
func waitIdle(t *testing.T, b *Bot) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); b.tracked.Load() != 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d updates still in flight", b.tracked.Load())
		}
	}
}

// An outage longer than MaxRetries' backoff (here: 30 failed getFile and 30
// failed sendMessage calls, where 3 photos get 6 attempts each without a
// deadline) loses no photo: calls are retried until the photo deadline.
func TestOutageWithinPhotoDeadlineLosesNoPhoto(t *testing.T) {
	h := newHarness(t)
	h.bot.PhotoDeadline = 20 * time.Second
	h.start()
	codes := make([]int, 30)
	for i := range codes {
		codes[i] = http.StatusBadGateway
	}
	h.api.FailNext("getFile", codes...)
	h.api.FailNext("sendMessage", codes...)
	h.api.AddFile("p1", jpeg)
	for i := range 3 {
		h.api.Push(tg.Message(tg.PhotoMessage(i+1, tg.PrivateChat(42), 42, "p1", "")))
	}
	h.wait("sendMessage", 33)
	waitIdle(t, h.bot)
	posts := 0
	for _, c := range h.api.Calls("sendMessage")[30:] {
		if !strings.Contains(c.Params.Get("text"), "a dog") {
			t.Errorf("reply %q, want a post", c.Params.Get("text"))
		}
		posts++
	}
	if posts != 3 {
		t.Errorf("%d posts for 3 photos", posts)
	}
}

// Behind a proxy, an outage answers HTML error pages: the reply is retried
// (an HTTP error status means the message was not posted).
func TestReplyRetriedThroughProxyErrorPages(t *testing.T) {
	release := make(chan struct{})
	h := newHarness(t, withDescriber(blockingDescriber(release)))
	h.bot.PhotoDeadline = 20 * time.Second
	h.start()
	h.api.AddFile("p1", jpeg)
	h.api.Push(tg.Message(tg.PhotoMessage(1, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("download", 1)
	h.api.Down(http.StatusBadGateway)
	close(release)
	h.wait("sendMessage", 8) // all failing
	h.api.Down(0)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		calls := h.api.Calls("sendMessage")
		if last := calls[len(calls)-1]; strings.Contains(last.Params.Get("text"), "a dog") {
			break
		}
		if _, err := h.api.WaitCalls(ctx, "sendMessage", len(calls)+1); err != nil {
			t.Fatal("no post after the outage:", err)
		}
	}
}

// A photo whose file cannot be fetched within the photo deadline is not
// answered "something went wrong" and dropped: it stays in the journal and
// is answered after the next start.
func TestPhotoKeptWhenOutageOutlastsDeadline(t *testing.T) {
	dir := t.TempDir()
	api := tg.NewServer()
	t.Cleanup(api.Close)
	api.AddFile("p1", jpeg)
	api.FailAll("getFile", http.StatusBadGateway)
	h1 := newHarness(t, withAPI(api), withStore(dir))
	h1.bot.PhotoDeadline = 300 * time.Millisecond
	h1.start()
	id := api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h1.wait("getFile", 1)
	waitIdle(t, h1.bot) // the photo deadline passed and the update was kept
	h1.stop()
	if n := len(api.Calls("sendMessage")); n != 0 {
		t.Fatalf("%d replies during the outage, want none (the photo waits)", n)
	}
	h := newHarness(t, withAPI(api), withStore(dir))
	pending, err := h.bot.Journal.Pending(context.Background())
	if err != nil || pending[id] == nil {
		t.Fatalf("journal after the outage: %v, %v; want update %d kept", pending, err, id)
	}
	h.store.Close()

	api.FailAll("getFile", 0)
	h2 := newHarness(t, withAPI(api), withStore(dir)).start()
	sent := h2.wait("sendMessage", 1)[0]
	if sent.Params.Get("reply_to_message_id") != "5" || !strings.Contains(sent.Params.Get("text"), "a dog") {
		t.Errorf("reply after restart %v", sent.Params)
	}
}

// A photo kept because of an outage is tried again while the bot runs, so
// it is answered once Telegram is back, without a restart.
func TestPhotoKeptByOutageIsRetriedWhileRunning(t *testing.T) {
	h := newHarness(t, withStore(t.TempDir()))
	h.bot.PhotoDeadline = 100 * time.Millisecond
	// Many quick rounds: the outage ends during one of them, however slow
	// the machine.
	h.bot.OutageRetry, h.bot.OutageRounds = 20*time.Millisecond, 1000
	h.start()
	h.api.AddFile("p1", jpeg)
	h.api.FailAll("getFile", http.StatusBadGateway)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("getFile", 20) // several rounds
	if n := len(h.api.Calls("sendMessage")); n != 0 {
		t.Fatalf("%d replies during the outage", n)
	}
	h.api.FailAll("getFile", 0)
	sent := h.wait("sendMessage", 1)[0]
	if !strings.Contains(sent.Params.Get("text"), "a dog") {
		t.Errorf("reply %q", sent.Params.Get("text"))
	}
	waitIdle(t, h.bot)
	if p, _ := h.bot.Journal.Pending(context.Background()); len(p) != 0 {
		t.Errorf("journal after the reply: %v", p)
	}
}

// RunWebhook keeps trying setWebhook while the Bot API is down, instead of
// failing (which would stop serve).
func TestRunWebhookWaitsOutOutage(t *testing.T) {
	h := newHarness(t)
	if err := h.svc.Start(); err != nil {
		t.Fatal(err)
	}
	h.api.FailAll("setWebhook", http.StatusBadGateway)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- h.bot.RunWebhook(ctx, WebhookConfig{URL: "https://bot.example.com/hook", Listen: "127.0.0.1:0", SecretToken: "s3cret"})
	}()
	h.wait("setWebhook", 9) // more than MaxRetries (5) retries
	h.api.FailAll("setWebhook", 0)
	n := len(h.api.Calls("setWebhook"))
	h.wait("setWebhook", n+1)
	select {
	case err := <-done:
		t.Fatalf("RunWebhook returned %v during serving", err)
	default:
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = h.svc.Shutdown(context.Background())
}
