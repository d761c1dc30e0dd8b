package bot

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter holds one token bucket per user and per group chat.
type limiter struct {
	userRate, chatRate   rate.Limit
	userBurst, chatBurst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// sweepAt is the bucket count above which full (idle) buckets are dropped.
const sweepAt = 4096

func newLimiter(userRate rate.Limit, userBurst int, chatRate rate.Limit, chatBurst int) *limiter {
	return &limiter{
		userRate: userRate, userBurst: max(userBurst, 1),
		chatRate: chatRate, chatBurst: max(chatBurst, 1),
		buckets: map[string]*rate.Limiter{},
	}
}

// bucket returns the bucket for key, creating it; nil when r is zero (no limit).
func (l *limiter) bucket(key string, r rate.Limit, burst int, now time.Time) *rate.Limiter {
	if r == 0 {
		return nil
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= sweepAt {
			l.sweep(now)
		}
		b = rate.NewLimiter(r, burst)
		l.buckets[key] = b
	}
	return b
}

// sweep drops buckets that are full again: they hold no state worth keeping.
func (l *limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(b.Burst()) {
			delete(l.buckets, k)
		}
	}
}

func (l *limiter) bucketsFor(now time.Time, job Job) (user, chat *rate.Limiter) {
	user = l.bucket("u:"+job.Platform+":"+job.UserID, l.userRate, l.userBurst, now)
	if job.Group {
		chat = l.bucket("c:"+job.Platform+":"+job.ChatID, l.chatRate, l.chatBurst, now)
	}
	return user, chat
}

// allow takes a token from the user's bucket and, in groups, the chat's; if
// either is empty it takes none and says how long to wait.
func (l *limiter) allow(now time.Time, job Job) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	user, chat := l.bucketsFor(now, job)
	var wait time.Duration
	scope := ""
	var held []*rate.Reservation
	for _, b := range []struct {
		lim   *rate.Limiter
		scope string
	}{{user, "user"}, {chat, "chat"}} {
		if b.lim == nil {
			continue
		}
		r := b.lim.ReserveN(now, 1)
		held = append(held, r)
		if d := r.DelayFrom(now); d > wait {
			wait, scope = d, b.scope
		}
	}
	if wait > 0 {
		for _, r := range held {
			r.CancelAt(now)
		}
		return &RateLimitError{Scope: scope, RetryAfter: wait}
	}
	return nil
}
