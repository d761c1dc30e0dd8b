package bot

import "errors"

// Sentinel errors for bad photos. The captioner wraps them (errors.Is works
// through its messages), and UserMessage turns them into words for a chat.
var (
	// ErrEmptyImage: the file has no bytes.
	ErrEmptyImage = errors.New("empty file")
	// ErrNotImage: the bytes are not a JPEG, PNG, GIF or WebP.
	ErrNotImage = errors.New("not an image")
	// ErrCorruptImage: the header is an image's but the data does not decode
	// (e.g. a truncated JPEG).
	ErrCorruptImage = errors.New("corrupt image")
	// ErrImageTooLarge: too many pixels (the header is checked before decoding)
	// or too many bytes.
	ErrImageTooLarge = errors.New("image too large")
	// ErrImageTooSmall: zero width or height.
	ErrImageTooSmall = errors.New("image has no pixels")
)
