package bot

import (
	"errors"
	"sync"
	"time"
)

// Notices remembers who was told to slow down or that the bot is busy, and
// until when, so that a burst of photos that is refused (an album of twenty
// over the rate limit or into a full queue) gets one reply of each kind
// instead of one per photo. Adapters key it by chat and user; in a group
// the user is "", so that the whole chat hears one notice per burst. The
// zero value is ready to use.
type Notices struct {
	mu    sync.Mutex
	until map[noticeKey]time.Time
}

type noticeKey struct {
	chat, user string
	busy       bool // a full queue; else a rate limit
}

// BurstWindow is how long after a "busy" or "please wait" reply more of the
// same stay unsaid: long enough to cover one album (its photos arrive within
// a second or so), short enough that a user who tries again later is
// answered, never met with silence.
const BurstWindow = 2 * time.Second

// Quiet reports whether a notice for err would repeat one sent to user in
// chat that is still in force; otherwise it records the notice about to be
// sent. Only rate-limit and busy errors are ever quiet.
func (n *Notices) Quiet(chat, user string, err error, now time.Time) bool {
	var rl *RateLimitError
	var wait time.Duration
	k := noticeKey{chat: chat, user: user}
	switch {
	case errors.As(err, &rl):
		wait = min(rl.RetryAfter, BurstWindow)
	case errors.Is(err, ErrBusy):
		k.busy, wait = true, BurstWindow
	default:
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if now.Before(n.until[k]) {
		return true
	}
	if n.until == nil {
		n.until = map[noticeKey]time.Time{}
	}
	if len(n.until) >= 1024 {
		for k, t := range n.until {
			if !now.Before(t) {
				delete(n.until, k)
			}
		}
	}
	n.until[k] = now.Add(wait)
	return false
}
