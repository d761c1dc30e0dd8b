package bot_test

import (
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// A refused burst gets one notice per kind; a photo sent after the burst
// window is answered again, so a user who retries never meets silence.
func TestNoticesQuietWithinBurst(t *testing.T) {
	var n bot.Notices
	t0 := time.Unix(1000, 0)
	rl := &bot.RateLimitError{Scope: "user", RetryAfter: time.Minute}
	for _, tc := range []struct {
		chat, user string
		err        error
		at         time.Duration
		wantQuiet  bool
	}{
		{"1", "7", rl, 0, false},
		{"1", "7", rl, 500 * time.Millisecond, true},
		{"1", "7", bot.ErrBusy, 600 * time.Millisecond, false}, // another kind of notice
		{"1", "7", bot.ErrBusy, time.Second, true},
		{"1", "8", rl, time.Second, false},              // another user
		{"2", "7", rl, time.Second, false},              // another chat
		{"1", "7", bot.ErrNotImage, time.Second, false}, // never quiet
		{"1", "7", bot.ErrNotImage, time.Second, false},
		{"1", "7", rl, bot.BurstWindow + time.Millisecond, false}, // tried again later
		{"1", "7", rl, bot.BurstWindow + time.Second, true},
		// A wait shorter than the window ends it early.
		{"3", "9", &bot.RateLimitError{RetryAfter: 500 * time.Millisecond}, 0, false},
		{"3", "9", &bot.RateLimitError{RetryAfter: 500 * time.Millisecond}, 400 * time.Millisecond, true},
		{"3", "9", &bot.RateLimitError{RetryAfter: 500 * time.Millisecond}, 600 * time.Millisecond, false},
	} {
		if got := n.Quiet(tc.chat, tc.user, tc.err, t0.Add(tc.at)); got != tc.wantQuiet {
			t.Errorf("%v for %s/%s at +%s: quiet %v, want %v", tc.err, tc.chat, tc.user, tc.at, got, tc.wantQuiet)
		}
	}
}
