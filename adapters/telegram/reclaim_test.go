package telegram

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
)

// sharedJournal is a Journal shared by replicas (a Reclaimer): Reclaim
// hands out the updates of a replica that died, once.
type sharedJournal struct {
	mu      sync.Mutex
	orphans map[int64][]byte
	done    []int64
}

func (j *sharedJournal) Accept(context.Context, map[int64][]byte, int64) error { return nil }
func (j *sharedJournal) Claim(context.Context, int64, []byte) (bool, error)    { return true, nil }
func (j *sharedJournal) Pending(context.Context) (map[int64][]byte, error)     { return nil, nil }
func (j *sharedJournal) Offset(context.Context) (int64, error)                 { return 0, nil }
func (j *sharedJournal) ReclaimInterval() time.Duration                        { return 20 * time.Millisecond }

func (j *sharedJournal) Done(_ context.Context, id int64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.done = append(j.done, id)
	return nil
}

func (j *sharedJournal) Reclaim(context.Context) (map[int64][]byte, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := j.orphans
	j.orphans = nil
	return out, nil
}

func TestRunWebhookTakesOverDeadReplicasUpdates(t *testing.T) {
	h := newHarness(t)
	h.api.AddFile("p1", jpeg)
	raw, err := json.Marshal(map[string]any{"update_id": 77, "message": tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")})
	if err != nil {
		t.Fatal(err)
	}
	j := &sharedJournal{orphans: map[int64][]byte{77: raw}}
	h.bot.Journal = j
	if err := h.svc.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.bot.RunWebhook(ctx, WebhookConfig{URL: "https://bot.example.com/hook", Listen: "127.0.0.1:0", SecretToken: "s3cret"})
	}()
	sent := h.wait("sendMessage", 1)[0]
	if sent.Params.Get("reply_to_message_id") != "5" {
		t.Errorf("reply %v", sent.Params)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = h.svc.Shutdown(context.Background())
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.done) != 1 || j.done[0] != 77 {
		t.Errorf("done %v, want [77]", j.done)
	}
}
