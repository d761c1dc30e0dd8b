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
	// ErrFileTooLarge: the file is over the platform's download limit;
	// adapters return it from Job.Fetch or before Submit, as a
	// *FileTooLargeError that names the limit.
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

// FileTooLargeError is what adapters return for a file over their download
// limit (Telegram's 20 MB, Discord's configured maximum), so UserMessage can
// name the limit. errors.Is(err, ErrFileTooLarge) reports true.
type FileTooLargeError struct {
	// Limit is the largest file accepted, in bytes; zero when unknown.
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	if e.Limit <= 0 {
		return ErrFileTooLarge.Error()
	}
	return fmt.Sprintf("%s: over %s", ErrFileTooLarge, HumanBytes(e.Limit))
}

// Is makes errors.Is(err, ErrFileTooLarge) true.
func (e *FileTooLargeError) Is(target error) bool { return target == ErrFileTooLarge }

// HumanBytes renders a size for people: "20 MB", "1.5 MB", "512 KB"
// (binary units, as the platforms state their limits).
func HumanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d KB", max(n>>10, 1))
}
