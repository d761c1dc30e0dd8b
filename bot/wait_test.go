package bot_test

import (
	"sync"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
)

func TestWaitJobs(t *testing.T) {
	var jobs sync.WaitGroup
	// The timeout is long: an empty group returns at once, and a loaded
	// machine may not schedule the waiting goroutine within a millisecond.
	if !bot.WaitJobs(&jobs, time.Minute) {
		t.Error("no jobs: not done")
	}
	jobs.Add(1)
	if bot.WaitJobs(&jobs, 10*time.Millisecond) {
		t.Error("a pending job: done")
	}
	go func() { time.Sleep(5 * time.Millisecond); jobs.Done() }()
	if !bot.WaitJobs(&jobs, time.Minute) {
		t.Error("the job finished: not done")
	}
}
