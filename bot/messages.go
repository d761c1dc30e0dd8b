package bot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// UserMessage turns an error from the job flow into a short, friendly
// sentence for a chat. Errors it does not know (internal failures) become a
// generic apology: internal details never reach a chat. A nil error gives "".
func UserMessage(err error) string {
	var rl *RateLimitError
	var big *FileTooLargeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rl):
		return fmt.Sprintf("You're sending photos faster than I can keep up. Please wait %s and try again.", humanSeconds(rl.RetryAfter))
	case errors.Is(err, ErrRateLimited):
		return "You're sending photos faster than I can keep up. Please wait a little and try again."
	case errors.Is(err, ErrBusy):
		return "I'm busy right now. Please try again shortly."
	case errors.Is(err, ErrStopped):
		return "I'm restarting right now. Please send the photo again in a minute."
	case errors.As(err, &big) && big.Limit > 0:
		return fmt.Sprintf("That file is too big for me to download (the limit is %s). Please send a smaller or compressed photo.", HumanBytes(big.Limit))
	case errors.Is(err, ErrFileTooLarge):
		return "That file is too big for me to download. Please send a smaller or compressed photo."
	case errors.Is(err, ErrUnsupportedFile), errors.Is(err, ErrNotImage):
		return "That file isn't a photo I can read. Please send a JPEG, PNG, WebP or GIF."
	case errors.Is(err, ErrEmptyImage):
		return "That file is empty. Please send the photo again."
	case errors.Is(err, ErrCorruptImage):
		return "I couldn't decode that image: it looks damaged or incomplete. Please send it again."
	case errors.Is(err, ErrImageTooLarge):
		return "That image is too large for me. Please send a smaller one."
	case errors.Is(err, ErrImageTooSmall):
		return "That image has no pixels I can look at. Please send a real photo."
	case errors.Is(err, ErrPhotoExpired):
		return "I no longer have that photo. Please send it again."
	case errors.Is(err, context.DeadlineExceeded):
		return "That took too long, sorry. Please try again."
	default:
		return "Sorry, something went wrong on my side. Please try again later."
	}
}

// humanSeconds renders a wait as "1 second" / "12 seconds", at least one.
func humanSeconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	if n <= 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}
