package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/captionbot/captionbot/adapters/bolt"
	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// serveConfig writes a config pointing Telegram at api and the store at db.
func serveConfig(t *testing.T, api *tg.Server, db string) string {
	t.Helper()
	t.Setenv(envTelegramToken, "")
	return writeConfig(t, fmt.Sprintf(`
[telegram]
token = %q
api_endpoint = %q
file_endpoint = %q
poll_timeout = "2s"
[store]
path = %q
[bot]
workers = 2
[log]
level = "debug"
`, tg.Token, api.APIEndpoint(), api.FileEndpoint(), db))
}

// safeBuffer is a bytes.Buffer for a goroutine's stderr.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs "captionbot serve" until the returned stop is called
// (SIGTERM), which returns the exit code.
func startServe(t *testing.T, dp deps, cfgPath string) (stop func() int, stderr *safeBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &safeBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, dp, []string{"serve", "--config", cfgPath}, io.Discard, stderr) }()
	return func() int {
		cancel()
		select {
		case c := <-code:
			return c
		case <-time.After(30 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}, stderr
}

func waitCalls(t *testing.T, api *tg.Server, method string, n int) []tg.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	calls, err := api.WaitCalls(ctx, method, n)
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

func TestServeTelegramEndToEnd(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	api := tg.NewServer()
	defer api.Close()
	db := filepath.Join(t.TempDir(), "captionbot.db")
	cfg := serveConfig(t, api, db)
	api.AddFile("p1", []byte("jpeg"))

	api.FailNext("getFile", 502) // retried; the log line must not carry the token
	stop, stderr := startServe(t, dp, cfg)
	api.Push(tg.Message(tg.TextMessage(1, tg.PrivateChat(42), 42, "/network linkedin", nil)))
	if got := waitCalls(t, api, "sendMessage", 1)[0].Params.Get("text"); !strings.Contains(got, "LinkedIn") {
		t.Errorf("/network reply %q", got)
	}
	api.Push(tg.Message(tg.PhotoMessage(2, tg.PrivateChat(42), 42, "p1", "")))
	sent := waitCalls(t, api, "sendMessage", 2)[1]
	if post := sent.Params.Get("text"); !strings.Contains(strings.ToLower(post), "dog") || sent.Params.Get("reply_markup") == "" {
		t.Errorf("post %q", post)
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
	}
	logs := stderr.String()
	if strings.Contains(logs, tg.Token) || strings.Contains(logs, strings.Split(tg.Token, ":")[1]) {
		t.Errorf("token in logs:\n%s", logs)
	}
	if !strings.Contains(logs, "retrying") || !strings.Contains(logs, "caption sent") {
		t.Errorf("logs miss the retry or the caption:\n%s", logs)
	}

	// The settings survived in the store.
	st, err := bolt.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, _ := st.Get(context.Background(), bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "42"})
	if got.Network != "linkedin" {
		t.Errorf("stored %+v", got)
	}
}

func TestServeNothingToServeExits2(t *testing.T) {
	t.Setenv(envTelegramToken, "")
	t.Setenv("CAPTIONBOT_DISCORD_TOKEN", "")
	t.Setenv(envHTTPListen, "")
	var stderr bytes.Buffer
	if code := run(context.Background(), defaultDeps(), []string{"serve", "--config", writeConfig(t, "[http]\nlisten = \"\"\n")}, io.Discard, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "no chat platform has a token") || !strings.Contains(stderr.String(), "[http] listen is off") ||
		!strings.Contains(stderr.String(), "$CAPTIONBOT_TELEGRAM_TOKEN") || !strings.Contains(stderr.String(), "$CAPTIONBOT_DISCORD_TOKEN") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

func TestServeSecondInstanceExits(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	api := tg.NewServer()
	defer api.Close()
	db := filepath.Join(t.TempDir(), "captionbot.db")
	st, err := bolt.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var stderr bytes.Buffer
	if code := run(context.Background(), dp, []string{"serve", "--config", serveConfig(t, api, db)}, io.Discard, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "in use by another captionbot") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

func TestServeBadTokenFails(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	api := tg.NewServer()
	defer api.Close()
	cfg := serveConfig(t, api, filepath.Join(t.TempDir(), "c.db"))
	t.Setenv(envTelegramToken, "999:wrong-token")
	var stderr bytes.Buffer
	if code := run(context.Background(), dp, []string{"serve", "--config", cfg}, io.Discard, &stderr); code != exitFailure ||
		strings.Contains(stderr.String(), "wrong-token") || !strings.Contains(stderr.String(), "telegram") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

// A damaged store file stops serve with exit status 2 and a message that
// says what to do, not a panic.
func TestServeDamagedStoreExits2(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	api := tg.NewServer()
	defer api.Close()
	db := filepath.Join(t.TempDir(), "captionbot.db")
	st, err := bolt.Open(db, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		_ = st.Set(context.Background(), bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: fmt.Sprint(i)}, bot.Settings{Network: "x"})
	}
	st.Close()
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2 * os.Getpagesize(); i < len(data); i++ {
		data[i] = byte(i*7919 + i>>8)
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run(context.Background(), dp, []string{"serve", "--config", serveConfig(t, api, db)}, io.Discard, &stderr)
	msg := stderr.String()
	if code != exitUsage || !strings.Contains(msg, "damaged") || !strings.Contains(msg, "prefs import") ||
		!strings.Contains(msg, "aside") || strings.Contains(msg, "goroutine") {
		t.Errorf("code %d, stderr %q", code, msg)
	}
}

// A store file deleted while serve runs is noticed: the settings command
// answers an error instead of "Done", and the log says why.
func TestServeNoticesDeletedStore(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	dp.storeCheckEvery = 20 * time.Millisecond
	api := tg.NewServer()
	defer api.Close()
	db := filepath.Join(t.TempDir(), "captionbot.db")
	stop, stderr := startServe(t, dp, serveConfig(t, api, db))
	api.Push(tg.Message(tg.TextMessage(1, tg.PrivateChat(42), 42, "/network linkedin", nil)))
	waitCalls(t, api, "sendMessage", 1)
	if err := os.Remove(db); err != nil {
		t.Fatal(err)
	}
	api.Push(tg.Message(tg.TextMessage(2, tg.PrivateChat(42), 42, "/network x", nil)))
	if got := waitCalls(t, api, "sendMessage", 2)[1].Params.Get("text"); strings.HasPrefix(got, "Done") || !strings.Contains(got, "couldn't") {
		t.Errorf("reply after the store was deleted: %q", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "settings store lost") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if !strings.Contains(stderr.String(), "settings store lost") {
		t.Errorf("no log of the lost store:\n%s", stderr.String())
	}
}
