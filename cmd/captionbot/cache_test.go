package main

import (
	"os"
	"testing"

	"github.com/captionbot/captionbot/adapters/postgres/pgtest"
)

// TestMain points the user cache folder (where the captioner keeps ONNX
// Runtime's optimised encoder) at a temporary folder, so tests never write
// into the real one, serve's HTTP server at a free port, and stops the
// PostgreSQL that tests may have started (pgtest).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "captionbot-cache-")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_CACHE_HOME", dir)
	// serve's HTTP server takes any free port, so tests run beside each
	// other and beside a captionbot on the default port.
	os.Setenv(envHTTPListen, "127.0.0.1:0")
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}
