package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

func TestIsImageFile(t *testing.T) {
	for _, tc := range []struct {
		name, mime string
		want       bool
	}{
		{"a.png", "image/png", true},
		{"a", "image/jpeg; charset=binary", true},
		{"A.WEBP", "", true},
		{"a.gif", "IMAGE/GIF", true},
		{"IMG_1234.PNG", "application/octet-stream", true},
		{"a.jpeg", " ", true},
		{"a.pdf", "application/pdf", false},
		{"a.png", "image/svg+xml", false},
		{"a.heic", "", false},
		{"a.heic", "image/heic", false},
		{"noext", "", false},
		{"a.mp4", "video/mp4", false},
	} {
		if got := bot.IsImageFile(tc.name, tc.mime); got != tc.want {
			t.Errorf("IsImageFile(%q, %q) = %v, want %v", tc.name, tc.mime, got, tc.want)
		}
	}
}

func TestCheckFile(t *testing.T) {
	if err := bot.CheckFile("a.png", "image/png", 10, 100); err != nil {
		t.Errorf("small PNG: %v", err)
	}
	if err := bot.CheckFile("a.png", "image/png", 0, 100); err != nil {
		t.Errorf("unknown size: %v", err)
	}
	if err := bot.CheckFile("a.pdf", "application/pdf", 10, 100); !errors.Is(err, bot.ErrUnsupportedFile) {
		t.Errorf("PDF: %v", err)
	}
	err := bot.CheckFile("a.png", "image/png", 2<<20, 1<<20)
	var big *bot.FileTooLargeError
	if !errors.As(err, &big) || big.Limit != 1<<20 || !strings.Contains(bot.UserMessage(err), "(the limit is 1 MB)") {
		t.Errorf("too large: %v", err)
	}
}

func TestReadLimited(t *testing.T) {
	if b, err := bot.ReadLimited(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Errorf("at the limit: %q %v", b, err)
	}
	var big *bot.FileTooLargeError
	if _, err := bot.ReadLimited(strings.NewReader("123456"), 5); !errors.As(err, &big) || big.Limit != 5 {
		t.Errorf("over the limit: %v", err)
	}
}

func TestRedact(t *testing.T) {
	base := fmt.Errorf(`Post "http://x/bot123:secret-tok/sendMessage": %w`, context.DeadlineExceeded)
	err := bot.Redact(base, "123:secret-tok")
	if strings.Contains(err.Error(), "secret-tok") || !strings.Contains(err.Error(), "[token]") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Redact = %q (Is deadline: %v)", err, errors.Is(err, context.DeadlineExceeded))
	}
	if wrapped := fmt.Errorf("send: %w", err); strings.Contains(wrapped.Error(), "secret") {
		t.Errorf("wrapped: %q", wrapped)
	}
	if bot.Redact(nil, "x") != nil || bot.Redact(base, "") != base || bot.Redact(base, "other") != base {
		t.Error("Redact changed what it should leave alone")
	}
}
