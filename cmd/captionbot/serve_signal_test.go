package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// envServeChild tells the test binary to act as "captionbot serve" for
// TestServeSIGTERMMidJob (the helper-process pattern), with the config at
// its value.
const envServeChild = "CAPTIONBOT_TEST_SERVE_CHILD"

// TestServeChildProcess is the child: serve with a slow fake captioner and
// main's signal handling.
func TestServeChildProcess(t *testing.T) {
	cfg := os.Getenv(envServeChild)
	if cfg == "" {
		t.Skip("helper process for TestServeSIGTERMMidJob")
	}
	dp := defaultDeps()
	dp.openDescriber = func(*config) (bot.Describer, io.Closer, error) {
		return &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
			time.Sleep(time.Second) // the parent sends SIGTERM meanwhile
			return bottest.DefaultDescription, nil
		}}, io.NopCloser(nil), nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, dp, []string{"serve", "--config", cfg}, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func TestServeSIGTERMMidJob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	api := tg.NewServer()
	defer api.Close()
	api.AddFile("p1", []byte("jpeg"))
	cfg := serveConfig(t, api, filepath.Join(t.TempDir(), "captionbot.db"))

	var out strings.Builder
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChildProcess$")
	cmd.Env = append(os.Environ(), envServeChild+"="+cfg)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := api.Push(tg.Message(tg.PhotoMessage(5, tg.PrivateChat(42), 42, "p1", "")))
	waitCalls(t, api, "download", 1) // the job is in the captioner now
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v; output:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("serve did not exit; output:\n%s", out.String())
	}
	sent := api.Calls("sendMessage")
	if len(sent) != 1 || sent[0].Params.Get("reply_to_message_id") != "5" {
		t.Fatalf("replies %+v", sent)
	}
	if api.Confirmed() <= id {
		t.Errorf("offset %d not confirmed past update %d", api.Confirmed(), id)
	}
}
