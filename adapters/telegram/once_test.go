package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
)

// postUpdate posts body to a webhook handler and returns the status.
func postUpdate(t *testing.T, url, body string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

const webhookPhoto = `{"update_id":7,"message":{"message_id":5,"date":1,"chat":{"id":42,"type":"private"},"from":{"id":42,"is_bot":false,"first_name":"U"},"photo":[{"file_id":"p1","file_unique_id":"up1","width":800,"height":600}]}}`

// Telegram redelivers a webhook update whose answer it did not get: while
// it is being handled, after it was answered, and after a restart, it is
// answered once.
func TestWebhookRedeliveryAnsweredOnce(t *testing.T) {
	for _, journaled := range []bool{true, false} {
		name := "memory"
		if journaled {
			name = "journal"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			api := tg.NewServer()
			t.Cleanup(api.Close)
			api.AddFile("p1", jpeg)
			run := func(posts int) {
				var opts []harnessOpt
				opts = append(opts, withAPI(api))
				if journaled {
					opts = append(opts, withStore(dir))
				}
				h := newHarness(t, opts...)
				if err := h.svc.Start(); err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(h.bot.WebhookHandler("s3cret"))
				for range posts {
					if code := postUpdate(t, srv.URL, webhookPhoto); code != http.StatusOK {
						t.Fatalf("webhook answered %d", code)
					}
				}
				h.wait("sendMessage", 1)
				waitIdle(t, h.bot)
				if code := postUpdate(t, srv.URL, webhookPhoto); code != http.StatusOK {
					t.Fatalf("webhook answered %d", code)
				}
				waitIdle(t, h.bot)
				srv.Close()
				_ = h.svc.Shutdown(context.Background())
				if h.store != nil {
					h.store.Close()
				}
			}
			run(3)
			if n := len(api.Calls("sendMessage")); n != 1 {
				t.Fatalf("%d replies to one update delivered 4 times, want 1", n)
			}
			if !journaled {
				return
			}
			run(1) // a restart remembers it
			if n := len(api.Calls("sendMessage")); n != 1 {
				t.Errorf("%d replies after a restart, want 1", n)
			}
		})
	}
}

// A sendMessage whose answer was lost (the message was posted) is not sent
// again, and the update leaves the journal.
func TestLostSendAnswerIsNotRepeated(t *testing.T) {
	h := newHarness(t, withStore(t.TempDir())).start()
	h.api.AddFile("p1", jpeg)
	h.api.DropNext("sendMessage", 1)
	h.api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("sendMessage", 1)
	waitIdle(t, h.bot)
	if n := len(h.api.Calls("sendMessage")); n != 1 {
		t.Errorf("%d sendMessage calls, want 1 (the first was posted)", n)
	}
	if p, err := h.bot.Journal.Pending(context.Background()); err != nil || len(p) != 0 {
		t.Errorf("journal %v %v, want empty", p, err)
	}
	// A send that fails before it is written (nothing posted) is retried.
	h.api.FailNext("sendMessage", http.StatusBadGateway)
	h.api.Push(tg.Message(tg.PhotoMessage(6, tg.PrivateChat(42), 42, "p1", "")))
	h.wait("sendMessage", 3)
}
