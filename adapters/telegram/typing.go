package telegram

import (
	"context"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// typers runs one "typing" loop per chat, however many of its photos are
// in work (an album of ten costs one chat action every TypingInterval, not
// ten), and sends a chat at most one action per TypingInterval even as its
// photos come and go (Telegram shows one for up to 5 s).
type typers struct {
	mu   sync.Mutex
	m    map[int64]*typer
	last map[int64]time.Time // when each chat last got an action
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
	due := !running && b.typingDue(chatID, time.Now())
	b.typers.mu.Unlock()
	if due {
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

// typingDue reports whether chatID may get an action at now, and if so
// records it as sent. The caller holds b.typers.mu.
func (b *Bot) typingDue(chatID int64, now time.Time) bool {
	if b.typers.last == nil {
		b.typers.last = map[int64]time.Time{}
	}
	if last, ok := b.typers.last[chatID]; ok && now.Sub(last) < b.TypingInterval {
		return false
	}
	if len(b.typers.last) >= 4096 {
		for id, at := range b.typers.last {
			if now.Sub(at) >= b.TypingInterval {
				delete(b.typers.last, id) // nothing to throttle any more
			}
		}
	}
	b.typers.last[chatID] = now
	return true
}

// typing re-sends the "typing" chat action each time TypingInterval has
// passed since the chat's last one, until ctx ends.
func (b *Bot) typing(ctx context.Context, chatID int64) {
	for {
		b.typers.mu.Lock()
		wait := b.TypingInterval
		if last, ok := b.typers.last[chatID]; ok {
			wait = max(b.TypingInterval-time.Since(last), 0)
		}
		b.typers.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		b.typers.mu.Lock()
		due := b.typingDue(chatID, time.Now())
		b.typers.mu.Unlock()
		if due {
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
