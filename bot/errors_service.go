package bot

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the service and the chat flow. UserMessage turns each
// into words for a chat.
var (
	// ErrBusy: the job queue is full; the user should try again shortly.
	ErrBusy = errors.New("busy: job queue full")
	// ErrRateLimited: the user or the chat sent too many photos. Errors
	// returned by Submit are *RateLimitError values that match it with
	// errors.Is and carry the wait.
	ErrRateLimited = errors.New("rate limited")
	// ErrStopped: the service is shutting down (or not started) and takes no
	// new jobs.
	ErrStopped = errors.New("service stopped")
	// ErrFileTooLarge: the file is over the platform's download limit
	// (Telegram: 20 MB); adapters return it from Job.Fetch or before Submit.
	ErrFileTooLarge = errors.New("file too large to download")
	// ErrUnsupportedFile: the message carries a file that is not an image
	// (a PDF, a video); adapters use it before Submit.
	ErrUnsupportedFile = errors.New("file is not an image")
	// ErrPhotoExpired: a button asked to redo a photo whose cached caption has
	// expired and whose file can no longer be fetched.
	ErrPhotoExpired = errors.New("photo no longer available")
)

// RateLimitError is what Submit returns when a user or a chat is over its
// rate limit. errors.Is(err, ErrRateLimited) reports true.
type RateLimitError struct {
	// Scope is "user" or "chat".
	Scope string
	// RetryAfter is how long until the next job would be accepted.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s rate limited: retry after %s", e.Scope, e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }
