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
	"github.com/captionbot/captionbot/adapters/discord"
	"github.com/captionbot/captionbot/adapters/prometheus"
	"github.com/captionbot/captionbot/adapters/telegram"
	"github.com/captionbot/captionbot/adapters/web"
	"github.com/captionbot/captionbot/bot"
)

// platformStarter is one chat adapter serve can run (Telegram here, Discord
// in serve_discord.go).
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
	Store   store
	Log     *slog.Logger
}

// platforms are the chat adapters serve can run, in the order they start.
func platforms() []platformStarter {
	return []platformStarter{
		{
			name:      "telegram",
			tokenHint: "[telegram] token or $" + envTelegramToken,
			enabled:   func(cfg *config) bool { return cfg.Telegram.Token != "" },
			connect:   connectTelegram,
			permanent: func(err error) bool { return errors.Is(err, telegram.ErrUnauthorized) },
		},
		{
			name:      "discord",
			tokenHint: "[discord] token or $" + envDiscordToken,
			enabled:   func(cfg *config) bool { return cfg.Discord.Token != "" },
			connect:   connectDiscord,
			permanent: discord.IsPermanent,
		},
	}
}

func runServe(ctx context.Context, dp deps, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "TOML config `FILE` (default: built-in defaults and environment)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: captionbot serve [--config FILE]")
		fmt.Fprintln(stderr, "\nServes the web playground and API on [http] listen (default "+defaultHTTPListen+"), and every")
		fmt.Fprintln(stderr, "chat platform that has a token, until SIGINT/SIGTERM:")
		for _, p := range platforms() {
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
	for _, p := range platforms() {
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

	store, err := openStore(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		if cfg.Store.Driver == "postgres" {
			return exitFailure // the database may be back at the next try
		}
		return exitUsage
	}
	defer store.Close()
	if err := lockPoller(ctx, cfg, store); err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}

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

	describer, closer, err := dp.openDescriber(cfg)
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

	describer, stopBatcher := wrapBatcher(describer, cfg.Captioner)
	defer stopBatcher()
	svc := dp.newService(metrics.Describer(describer), metrics.Refiner(refiner, cfg.Refiner.Provider == providerOpenAI), store)
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
	// The platforms log through the metrics too: their failed API calls count.
	env := platformEnv{Service: svc, Store: store, Log: slog.New(metrics.LogHandler(log.Handler()))}

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
	g.Go(func() error { watchStore(gctx, store, log, dp.storeCheckEvery); return nil })
	g.Go(func() error { return httpServers.wait(gctx) })
	for _, p := range enabled {
		g.Go(func() error {
			run, err := connectRetrying(gctx, dp.connectRetry, p, cfg, env, status)
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

// watchStore logs, once, when the store's file was deleted or replaced:
// settings changes fail from then on, and a restart is needed. A database
// that cannot be reached (postgres) is logged when it goes and comes back.
func watchStore(ctx context.Context, store store, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	down := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			err := store.Err()
			switch {
			case errors.Is(err, bolt.ErrGone):
				log.Error("settings store lost: settings changes fail until captionbot is restarted", "err", err)
				return
			case err != nil && !down:
				log.Error("settings store unreachable", "err", err)
			case err == nil && down:
				log.Info("settings store reachable again")
			}
			down = err != nil
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

// backoff is a retry schedule: from base, doubling, to at most max.
type backoff struct{ base, max time.Duration }

// connectRetrying connects p, retrying with backoff while the failure may
// pass (the platform is down or unreachable) until ctx ends, which returns
// a nil run. A permanent failure (a refused token) is returned.
func connectRetrying(ctx context.Context, retry backoff, p platformStarter, cfg *config, env platformEnv, status *platformStatus) (func(context.Context) error, error) {
	wait := retry.base
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
		wait = min(2*wait, retry.max)
	}
}

// lockPoller takes a shared store's long-polling lock when Telegram long
// polls: one poller per bot, however many processes share the store.
func lockPoller(ctx context.Context, cfg *config, st store) error {
	pl, ok := st.(pollLocker)
	if !ok || cfg.Telegram.Token == "" || cfg.Telegram.Mode == "webhook" {
		return nil
	}
	if err := pl.LockPoller(ctx, telegram.Platform); err != nil {
		return fmt.Errorf("%w\nRun one long-polling captionbot per bot, or set [telegram] mode = \"webhook\" to run several behind a load balancer", err)
	}
	return nil
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

// wrapBatcher wraps d in a bot.Batcher when cfg.Batch asks for batches
// and d can describe them; stop ends the batcher once the service is done.
func wrapBatcher(d bot.Describer, cfg captionerConfig) (_ bot.Describer, stop func()) {
	bd, ok := d.(interface {
		bot.Describer
		bot.BatchDescriber
	})
	if !ok || cfg.Batch < 2 {
		return d, func() {}
	}
	b := bot.NewBatcher(bd, cfg.Batch)
	b.Concurrent = cfg.sessions()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	return b, func() { cancel(); <-done }
}
