package bot

import (
	"sync"
	"time"
)

// WaitJobs waits until jobs is done or timeout has passed, and reports
// whether it was done: the front ends' shutdown wait for the jobs they
// submitted (the service delivers every accepted job, so the timeout is a
// backstop). Nothing may be added to jobs meanwhile.
func WaitJobs(jobs *sync.WaitGroup, timeout time.Duration) bool {
	done := make(chan struct{})
	go func() { jobs.Wait(); close(done) }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		select { // both ready at once: done wins
		case <-done:
			return true
		default:
			return false
		}
	}
}
