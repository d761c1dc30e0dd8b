package telegram

import (
	"context"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// typers runs one "typing" loop per chat, however many of its photos are
// in work (an album of ten costs one chat action every TypingInterval, not
// ten).
type typers struct {
	mu sync.Mutex
	m  map[int64]*typer
}

type typer struct {
	jobs   int
	cancel context.CancelFunc
}

// startTyping counts one more job in chatID and returns the function that
// ends it (safe to call more than once). The chat's first job sends the
// action at once, before the job is queued, so it can never arrive after a
// fast reply; a loop repeats it until the chat's last job ends.
func (b *Bot) startTyping(ctx context.Context, chatID int64) (stop func()) {
	b.typers.mu.Lock()
	if b.typers.m == nil {
		b.typers.m = map[int64]*typer{}
	}
	t, running := b.typers.m[chatID]
	if !running {
		loopCtx, cancel := context.WithCancel(context.Background())
		t = &typer{cancel: cancel}
		b.typers.m[chatID] = t
		go b.typing(loopCtx, chatID)
	}
	t.jobs++
	b.typers.mu.Unlock()
	if !running {
		b.sendTyping(ctx, chatID)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			b.typers.mu.Lock()
			defer b.typers.mu.Unlock()
			t.jobs--
			if t.jobs == 0 {
				t.cancel()
				delete(b.typers.m, chatID)
			}
		})
	}
}

// typing re-sends the "typing" chat action every TypingInterval until ctx
// ends.
func (b *Bot) typing(ctx context.Context, chatID int64) {
	t := time.NewTicker(b.TypingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.sendTyping(ctx, chatID)
		}
	}
}

// sendTyping is best effort, without retries: a lost typing action harms
// nobody.
func (b *Bot) sendTyping(ctx context.Context, chatID int64) {
	action, _ := b.retarget(tgbotapi.NewChatAction(chatID, tgbotapi.ChatTyping))
	if _, err := b.with(ctx).Request(action); err != nil && ctx.Err() == nil {
		b.log().Debug("typing action failed", "err", b.redact(err))
	}
}
