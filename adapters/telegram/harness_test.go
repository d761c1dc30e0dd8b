package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"golang.org/x/sync/errgroup"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// harness runs a Bot and its Service against a fake Bot API server, wired
// as cmd/captionbot wires them.
type harness struct {
	t        *testing.T
	api      *telegramtest.Server
	desc     *bottest.Describer
	refiner  *bottest.Refiner
	prefs    bot.Preferences
	store    *bolt.Store
	svc      *bot.Service
	bot      *Bot
	cancel   context.CancelFunc
	done     chan error
	stopped  bool
	storeDir string
}

type harnessOpt func(*harness)

// withStore uses a bbolt store (settings and journal) in dir.
func withStore(dir string) harnessOpt { return func(h *harness) { h.storeDir = dir } }

func withAPI(api *telegramtest.Server) harnessOpt { return func(h *harness) { h.api = api } }

func withDescriber(d *bottest.Describer) harnessOpt { return func(h *harness) { h.desc = d } }

func withRefiner(r *bottest.Refiner) harnessOpt { return func(h *harness) { h.refiner = r } }

// blockingDescriber captions only once release is closed.
func blockingDescriber(release <-chan struct{}) *bottest.Describer {
	return &bottest.Describer{DescribeFunc: func(ctx context.Context, _ []byte) (bot.Description, error) {
		<-release
		return bottest.DefaultDescription, nil
	}}
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newHarness(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	h := &harness{t: t}
	for _, o := range opts {
		o(h)
	}
	if h.api == nil {
		h.api = telegramtest.NewServer()
		t.Cleanup(h.api.Close)
	}
	if h.desc == nil {
		h.desc = &bottest.Describer{}
	}
	if h.refiner == nil {
		h.refiner = &bottest.Refiner{}
	}
	h.prefs = &bottest.Preferences{}
	if h.storeDir != "" {
		st, err := bolt.Open(filepath.Join(h.storeDir, "captionbot.db"), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		h.store, h.prefs = st, st
	}
	h.svc = bot.NewService(h.desc, h.refiner, h.prefs)
	h.svc.Workers = 4
	h.svc.Log = quietLog()
	h.svc.ShutdownGrace = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := New(ctx, Config{Token: telegramtest.Token, APIEndpoint: h.api.APIEndpoint(), FileEndpoint: h.api.FileEndpoint()}, h.svc)
	if err != nil {
		t.Fatal(err)
	}
	b.Log = quietLog()
	b.PollTimeout = 2 * time.Second
	b.RetryBase, b.RetryMax = 10*time.Millisecond, 100*time.Millisecond
	if h.store != nil {
		j, err := h.store.Journal(Platform)
		if err != nil {
			t.Fatal(err)
		}
		b.Journal = j
	}
	h.bot = b
	t.Cleanup(h.stop)
	return h
}

// start runs the service and the polling loop as cmd/captionbot does.
func (h *harness) start() *harness {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	g := new(errgroup.Group)
	if err := h.svc.Start(); err != nil {
		h.t.Fatal(err)
	}
	g.Go(func() error { return h.svc.Run(ctx) })
	g.Go(func() error { return h.bot.Run(ctx) })
	go func() { h.done <- g.Wait() }()
	return h
}

// stop is SIGTERM: cancel, wait for a clean exit.
func (h *harness) stop() {
	if err := h.stopErr(); err != nil {
		h.t.Errorf("shutdown: %v", err)
	}
}

// stopErr is stop returning the shutdown error.
func (h *harness) stopErr() error {
	if h.stopped || h.cancel == nil {
		return nil
	}
	h.stopped = true
	h.cancel()
	var err error
	select {
	case err = <-h.done:
	case <-time.After(30 * time.Second):
		err = errors.New("shutdown hung")
	}
	if h.store != nil {
		h.store.Close()
	}
	return err
}

// wait waits for n calls of method.
func (h *harness) wait(method string, n int) []telegramtest.Call {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	calls, err := h.api.WaitCalls(ctx, method, n)
	if err != nil {
		h.t.Fatal(err)
	}
	return calls
}

// keyboard decodes a call's reply_markup.
func keyboard(t *testing.T, c telegramtest.Call) tgbotapi.InlineKeyboardMarkup {
	t.Helper()
	var kb tgbotapi.InlineKeyboardMarkup
	if err := json.Unmarshal([]byte(c.Params.Get("reply_markup")), &kb); err != nil {
		t.Fatalf("reply_markup %q: %v", c.Params.Get("reply_markup"), err)
	}
	return kb
}

// button finds a button whose label contains label.
func button(t *testing.T, kb tgbotapi.InlineKeyboardMarkup, label string) string {
	t.Helper()
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if strings.Contains(b.Text, label) && b.CallbackData != nil {
				return *b.CallbackData
			}
		}
	}
	t.Fatalf("no button %q in %+v", label, kb)
	return ""
}

var jpeg = []byte("\xff\xd8\xff fake jpeg bytes")
