package main

import (
	"os"
	"testing"

	"github.com/captionbot/captionbot/adapters/postgres/pgtest"
)

// TestMain points the user cache folder (where the captioner keeps ONNX
// Runtime's optimised encoder) at a temporary folder, so tests never write
// into the real one; and stops the PostgreSQL that tests may have started
// (pgtest).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "captionbot-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}
