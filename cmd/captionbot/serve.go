package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/prometheus"
	"github.com/captionbot/captionbot/adapters/telegram"
	"github.com/captionbot/captionbot/adapters/web"
	"github.com/captionbot/captionbot/bot"
)

func init() {
	register("serve", command{
		summary: "run the web playground and the chat bots: captionbot serve [--config FILE]",
		run:     runServe,
	})
	platforms = append(platforms, platformStarter{
		name:      "telegram",
		tokenHint: "[telegram] token or $" + envTelegramToken,
		enabled:   func(cfg *config) bool { return cfg.Telegram.Token != "" },
		connect:   connectTelegram,
		permanent: func(err error) bool { return errors.Is(err, telegram.ErrUnauthorized) },
	})
}

// platformStarter is one chat adapter serve can run. Each registers itself
// from an init function (Telegram here, Discord in serve_discord.go), so the
// adapters' files do not depend on each other.
type platformStarter struct {
	name string
	// tokenHint says where its token goes, for the "no token" message.
	tokenHint string
	// enabled reports whether the config turns the platform on (it has a
	// token).
	enabled func(cfg *config) bool
	// connect logs in and returns the function that runs the platform until
	// ctx ends; run returns once the platform's in-flight jobs are delivered.
	connect func(ctx context.Context, cfg *config, env platformEnv) (run func(context.Context) error, err error)
	// permanent reports a connect error that retrying cannot fix (a refused
	// token); others are retried with backoff while the rest serve.
	permanent func(error) bool
}

// platformEnv is what serve shares with every platform.
type platformEnv struct {
	Service *bot.Service
	Store   *bolt.Store
	Log     *slog.Logger
}

// newService builds serve's bot.Service; the benchmark wraps it to time the
// captioner and the refiner.
var newService = bot.NewService

// platforms are the registered adapters, in registration order.
var platforms []platformStarter

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "TOML config `FILE` (default: built-in defaults and environment)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: captionbot serve [--config FILE]")
		fmt.Fprintln(stderr, "\nServes the web playground and API on [http] listen (default "+defaultHTTPListen+"), and every")
		fmt.Fprintln(stderr, "chat platform that has a token, until SIGINT/SIGTERM:")
		for _, p := range platforms {
			fmt.Fprintf(stderr, "  %s: %s\n", p.name, p.tokenHint)
		}
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return exitUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	var enabled []platformStarter
	var hints []string
	for _, p := range platforms {
		hints = append(hints, p.tokenHint)
		if p.enabled(cfg) {
			enabled = append(enabled, p)
		}
	}
	if len(enabled) == 0 && cfg.HTTP.Listen == "" {
		fmt.Fprintf(stderr, "captionbot: nothing to serve: [http] listen is off and no chat platform has a token; set %s\n", strings.Join(hints, ", or "))
		return exitUsage
	}
	log := newLogger(cfg.Log, stderr)

	store, err := openStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	defer store.Close()

	listeners, err := listenHTTP(cfg.HTTP)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	defer listeners.Close()
	// HTTP serves from here on: /healthz at once, /readyz and photos once
	// the models are loaded and the service runs.
	gate := &serviceGate{}
	metrics := prometheus.New(gate.Queued)
	status := &platformStatus{}
	ready := webReady(gate.started, store, enabled, status)
	httpServers := startHTTP(ctx, listeners, cfg, log, gate, ready, metrics.Handler(),
		func(reason string) { metrics.Refused(web.Platform, reason) }, stdout)
	defer httpServers.stop()

	describer, closer, err := openDescriber(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		if isSetupError(err) {
			return exitUsage
		}
		return exitFailure
	}
	defer closer.Close()

	refiner, err := openRefiner(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}

	svc := newService(metrics.Describer(describer), metrics.Refiner(refiner, cfg.Refiner.Provider == providerOpenAI), store)
	applyBotConfig(svc, cfg.Bot)
	svc.RefineWorkers = cfg.Refiner.Concurrency
	svc.Fallback = metrics.Fallback(offlineRefiner(log))
	svc.Log = slog.New(metrics.LogHandler(log.Handler())) // counts each job's outcome
	svc.Refused = func(job bot.Job, err error) { metrics.Refused(job.Platform, prometheus.ReasonCode(err)) }
	if err := svc.Start(); err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	gate.set(svc)
	env := platformEnv{Service: svc, Store: store, Log: log}

	// The service and every platform run until a signal (or a platform's
	// fatal error) ends ctx; the service then drains accepted jobs within
	// shutdown_grace, and the platforms return once their replies are out.
	// Platforms start independently: one that cannot be reached is retried
	// in the background while the others serve.
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := svc.Run(gctx); err != nil {
			// Photos still running when the grace period ended were answered
			// with "try again" (or kept in the journal for the next start):
			// nothing is lost, so this is no failure.
			log.Warn("grace period ended before every photo was done", "err", err)
		}
		return nil
	})
	g.Go(func() error { watchStore(gctx, store, log, storeCheckInterval); return nil })
	g.Go(func() error { return httpServers.wait(gctx) })
	for _, p := range enabled {
		g.Go(func() error {
			run, err := connectRetrying(gctx, p, cfg, env, status)
			if err != nil {
				fmt.Fprintf(stderr, "captionbot: %s: %v\n", p.name, err)
				return err
			}
			if run == nil {
				return nil // stopped before it connected
			}
			defer status.set(p.name, false)
			return run(gctx)
		})
	}
	err = g.Wait()
	if err != nil {
		log.Error("stopped with an error", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
}

// storeCheckInterval is how often serve checks that the store's file is
// still the one it opened (writes check it too).
var storeCheckInterval = 30 * time.Second

// watchStore logs, once, when the store's file was deleted or replaced:
// settings changes fail from then on, and a restart is needed.
func watchStore(ctx context.Context, store *bolt.Store, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := store.Err(); errors.Is(err, bolt.ErrGone) {
				log.Error("settings store lost: settings changes fail until captionbot is restarted", "err", err)
				return
			}
		}
	}
}

// platformStatus is each platform's connection state, for logs and a
// readiness check.
type platformStatus struct {
	mu        sync.Mutex
	connected map[string]bool
}

func (s *platformStatus) set(name string, up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.connected == nil {
		s.connected = map[string]bool{}
	}
	s.connected[name] = up
}

// Connected reports whether platform name is connected and serving.
func (s *platformStatus) Connected(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connected[name]
}

// Connect retry backoff: from connectRetryBase doubling to connectRetryMax.
var (
	connectRetryBase = time.Second
	connectRetryMax  = time.Minute
)

// connectRetrying connects p, retrying with backoff while the failure may
// pass (the platform is down or unreachable) until ctx ends, which returns
// a nil run. A permanent failure (a refused token) is returned.
func connectRetrying(ctx context.Context, p platformStarter, cfg *config, env platformEnv, status *platformStatus) (func(context.Context) error, error) {
	wait := connectRetryBase
	for attempt := 1; ; attempt++ {
		connectCtx, cancel := context.WithTimeout(ctx, time.Minute)
		run, err := p.connect(connectCtx, cfg, env)
		cancel()
		if err == nil {
			env.Log.Info("platform connected", "platform", p.name)
			status.set(p.name, true)
			return run, nil
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		if p.permanent != nil && p.permanent(err) {
			return nil, err
		}
		env.Log.Error("platform unreachable; retrying", "platform", p.name, "attempt", attempt, "err", err, "wait", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, nil
		}
		wait = min(2*wait, connectRetryMax)
	}
}

// connectTelegram starts the Telegram adapter: getMe, then long polling or
// the webhook, with the update journal in the store.
func connectTelegram(ctx context.Context, cfg *config, env platformEnv) (func(context.Context) error, error) {
	tc := cfg.Telegram
	tb, err := telegram.New(ctx, telegram.Config{Token: tc.Token, APIEndpoint: tc.APIEndpoint, FileEndpoint: tc.FileEndpoint}, env.Service)
	if err != nil {
		return nil, err
	}
	tb.Log = env.Log
	tb.PollTimeout = tc.PollTimeout.Duration
	tb.MaxFileSize = int64(tc.MaxFileMB) << 20
	tb.PhotoDeadline = tc.PhotoDeadline.Duration
	tb.ShutdownTimeout = cfg.Bot.ShutdownGrace.Duration + time.Minute
	j, err := env.Store.Journal(telegram.Platform)
	if err != nil {
		return nil, err
	}
	tb.Journal = j
	if tc.Mode == "webhook" {
		wh := telegram.WebhookConfig{URL: tc.WebhookURL, Listen: tc.WebhookListen, SecretToken: tc.WebhookSecret}
		return func(ctx context.Context) error { return tb.RunWebhook(ctx, wh) }, nil
	}
	return tb.Run, nil
}
