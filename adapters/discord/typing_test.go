package discord

import (
	"testing"
	"time"
)

// Each photo runs its own typing loop; the throttle lets a channel have one
// indicator per typingGap however many loops ask (before it, ten photos in
// a channel sent ten indicators every 8 s).
func TestTypingThrottle(t *testing.T) {
	var th typingThrottle
	t0 := time.Unix(1000, 0)
	for i, tc := range []struct {
		channel string
		at      time.Duration
		want    bool
	}{
		{"a", 0, true},
		{"a", 0, false}, // a second photo's loop, same instant
		{"b", 0, true},  // channels are apart
		{"a", typingGap - time.Millisecond, false},
		{"a", typingGap, true},
		{"a", typingGap + time.Second, false},
		{"b", 2 * typingGap, true},
	} {
		if got := th.due(tc.channel, t0.Add(tc.at)); got != tc.want {
			t.Errorf("%d: due(%s, +%s) = %v, want %v", i, tc.channel, tc.at, got, tc.want)
		}
	}
}
