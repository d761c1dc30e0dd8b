package bot

import (
	"io"
	"mime"
	"path"
	"strings"
)

// imageTypes are the MIME types of the photos the captioner reads.
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// imageExts are the file name extensions of those photos.
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true}

// genericTypes say nothing about a file's content; the name decides.
var genericTypes = map[string]bool{"": true, "application/octet-stream": true, "binary/octet-stream": true}

// IsImageFile reports whether a file sent to the bot is a JPEG, PNG, GIF or
// WebP, by its MIME type ("image/png", parameters and case ignored), or by
// its name's extension when the type is missing or generic
// (application/octet-stream). A specific other type (image/svg+xml,
// application/pdf) is no photo whatever the name says.
func IsImageFile(name, mimeType string) bool {
	t := strings.ToLower(strings.TrimSpace(mimeType))
	if mt, _, err := mime.ParseMediaType(t); err == nil {
		t = mt
	} else if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	if !genericTypes[t] {
		return imageTypes[t]
	}
	return imageExts[strings.ToLower(path.Ext(name))]
}

// CheckFile is the chat flow's test of a file before it is downloaded:
// ErrUnsupportedFile when it is not an image (IsImageFile), a
// *FileTooLargeError naming limit when size (0: unknown) is over it, else
// nil.
func CheckFile(name, mimeType string, size, limit int64) error {
	switch {
	case !IsImageFile(name, mimeType):
		return ErrUnsupportedFile
	case size > limit:
		return &FileTooLargeError{Limit: limit}
	}
	return nil
}

// ReadLimited reads r to the end, up to limit bytes; a longer body is a
// *FileTooLargeError naming limit (the platform's size field can be missing
// or wrong).
func ReadLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &FileTooLargeError{Limit: limit}
	}
	return data, nil
}

// Redact hides secret (a bot token, an interaction token) in err's text,
// where net/http errors quote URLs that hold it; errors.Is and As still see
// the original. A nil err, an empty secret or a text without it returns err
// as is.
func Redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{err: err, secret: secret}
}

// redactedError is Redact's error; it redacts when printed, so a message
// that changes (a joined error) stays clean.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.secret, "[token]") }
func (e *redactedError) Unwrap() error { return e.err }
