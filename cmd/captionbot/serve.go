package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/telegram"
	"github.com/captionbot/captionbot/bot"
)

func init() {
	register("serve", command{
		summary: "run the chat bot: captionbot serve --config FILE",
		run:     runServe,
	})
	platforms = append(platforms, platformStarter{
		name:      "telegram",
		tokenHint: "[telegram] token or $" + envTelegramToken,
		enabled:   func(cfg *config) bool { return cfg.Telegram.Token != "" },
		connect:   connectTelegram,
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
		fmt.Fprintln(stderr, "\nRuns every chat platform that has a token until SIGINT/SIGTERM:")
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
	if len(enabled) == 0 {
		fmt.Fprintf(stderr, "captionbot: no chat platform has a token; set %s\n", strings.Join(hints, ", or "))
		return exitUsage
	}
	log := newLogger(cfg.Log, stderr)

	store, err := openStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	defer store.Close()

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

	svc := newService(describer, refiner, store)
	applyBotConfig(svc, cfg.Bot)
	svc.RefineWorkers = cfg.Refiner.Concurrency
	svc.Fallback = offlineRefiner(log)
	svc.Log = log
	if err := svc.Start(); err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	env := platformEnv{Service: svc, Store: store, Log: log}

	runs := make([]func(context.Context) error, 0, len(enabled))
	for _, p := range enabled {
		connectCtx, cancel := context.WithTimeout(ctx, time.Minute)
		run, err := p.connect(connectCtx, cfg, env)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "captionbot: %s: %v\n", p.name, err)
			_ = svc.Shutdown(context.Background())
			return exitFailure
		}
		log.Info("platform connected", "platform", p.name)
		runs = append(runs, run)
	}

	// The service and every platform run until a signal (or a platform's
	// fatal error) ends ctx; the service then drains accepted jobs within
	// shutdown_grace, and the platforms return once their replies are out.
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
	for _, run := range runs {
		g.Go(func() error { return run(gctx) })
	}
	err = g.Wait()
	if err != nil {
		log.Error("stopped with an error", "err", err)
		return exitFailure
	}
	log.Info("stopped")
	return exitOK
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
