package bot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// typingLog records the indicators a Typing sends.
type typingLog struct {
	mu   sync.Mutex
	sent map[string]int
}

func (l *typingLog) send(_ context.Context, chat string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sent == nil {
		l.sent = map[string]int{}
	}
	l.sent[chat]++
}

func (l *typingLog) count(chat string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent[chat]
}

// Jobs that come and go in one chat share its indicator: at most one per
// Every per chat, however many loops ask.
func TestTypingAtMostOncePerEvery(t *testing.T) {
	var log typingLog
	ty := &bot.Typing[string]{Every: time.Hour, Send: log.send}
	for range 4 {
		stop := ty.Start(t.Context(), "a")
		stop()
		stop() // twice is harmless
	}
	stopA := ty.Start(t.Context(), "a")
	stopB := ty.Start(t.Context(), "b")
	defer stopA()
	defer stopB()
	if log.count("a") != 1 || log.count("b") != 1 {
		t.Errorf("indicators a=%d b=%d, want one each", log.count("a"), log.count("b"))
	}
}

func TestTypingRepeatsUntilLastJobEnds(t *testing.T) {
	var log typingLog
	ty := &bot.Typing[string]{Every: 20 * time.Millisecond, Send: log.send}
	stop1 := ty.Start(t.Context(), "a")
	stop2 := ty.Start(t.Context(), "a")
	stop1()
	// It repeats while a job remains: three sends come, however loaded the
	// machine (a fixed sleep flaked under CI's load).
	deadline := time.Now().Add(10 * time.Second)
	for log.count("a") < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := log.count("a"); n < 3 {
		t.Errorf("%d indicators in 10 s at 20 ms, want ≥ 3", n)
	}
	stop2()
	time.Sleep(50 * time.Millisecond) // a send already under way may finish
	n := log.count("a")
	time.Sleep(100 * time.Millisecond) // five intervals
	if got := log.count("a"); got != n {
		t.Errorf("%d indicators after the last job ended", got-n)
	}
}
