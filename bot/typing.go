package bot

import (
	"context"
	"sync"
	"time"
)

// Typing keeps a "typing…" indicator up in every chat that has photos in
// work, for any front end: one loop per chat however many of its photos are
// in work (an album of ten costs one indicator every Every, not ten), and at
// most one indicator per Every per chat even as its photos come and go. C
// is the platform's chat ID type. Set the fields before the first Start.
type Typing[C comparable] struct {
	// Every is how often the indicator is sent while the chat has work
	// (Telegram shows one for 5 s, Discord for 10 s). It must be positive.
	Every time.Duration
	// Send shows the indicator in chat; best effort (a lost one harms
	// nobody), so it returns nothing. It runs outside Typing's lock.
	Send func(ctx context.Context, chat C)

	mu    sync.Mutex
	loops map[C]*typingLoop
	last  map[C]time.Time // when each chat last got an indicator
}

type typingLoop struct {
	jobs   int
	cancel context.CancelFunc
}

// Start counts one more job in chat and returns the function that ends it
// (safe to call more than once; call it when the reply is about to go out,
// or when the job was refused). The chat's first job sends the indicator at
// once, with ctx, so call Start before the job is queued: then the
// indicator can never arrive after a fast reply. A loop repeats it until
// the chat's last job ends.
func (t *Typing[C]) Start(ctx context.Context, chat C) (stop func()) {
	t.mu.Lock()
	if t.loops == nil {
		t.loops = map[C]*typingLoop{}
	}
	l, running := t.loops[chat]
	if !running {
		loopCtx, cancel := context.WithCancel(context.Background())
		l = &typingLoop{cancel: cancel}
		t.loops[chat] = l
		go t.loop(loopCtx, chat)
	}
	l.jobs++
	due := !running && t.due(chat, time.Now())
	t.mu.Unlock()
	if due {
		t.Send(ctx, chat)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			l.jobs--
			if l.jobs == 0 {
				l.cancel()
				delete(t.loops, chat)
			}
		})
	}
}

// due reports whether chat may get an indicator at now, and if so records
// it as sent. The caller holds t.mu.
func (t *Typing[C]) due(chat C, now time.Time) bool {
	if t.last == nil {
		t.last = map[C]time.Time{}
	}
	if last, ok := t.last[chat]; ok && now.Sub(last) < t.Every {
		return false
	}
	if len(t.last) >= 4096 {
		for c, at := range t.last {
			if now.Sub(at) >= t.Every {
				delete(t.last, c) // nothing to throttle any more
			}
		}
	}
	t.last[chat] = now
	return true
}

// loop re-sends the indicator each time Every has passed since the chat's
// last one, until ctx ends.
func (t *Typing[C]) loop(ctx context.Context, chat C) {
	for {
		t.mu.Lock()
		wait := t.Every
		if last, ok := t.last[chat]; ok {
			wait = max(t.Every-time.Since(last), 0)
		}
		t.mu.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		t.mu.Lock()
		due := t.due(chat, time.Now())
		t.mu.Unlock()
		if due {
			t.Send(ctx, chat)
		}
	}
}
