package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/captionbot/captionbot/bot"
)

// botConfig is the [bot] section: the platform-neutral service.
type botConfig struct {
	// DefaultNetwork is what users and chats that chose nothing get.
	DefaultNetwork string `toml:"default_network"`
	// Workers is the number of photos captioned at once; 0 = one per CPU.
	Workers int `toml:"workers"`
	// QueueSize bounds photos waiting for a worker.
	// When full, users are told to try again shortly. 0 = 16 per worker,
	// at least 256.
	QueueSize int `toml:"queue_size"`
	// UserPerMinute and UserBurst limit each user's photos (a burst at
	// once, then so many per minute); ChatPerMinute and ChatBurst limit each
	// group. 0 per minute = no limit.
	UserPerMinute float64 `toml:"user_per_minute"`
	UserBurst     int     `toml:"user_burst"`
	ChatPerMinute float64 `toml:"chat_per_minute"`
	ChatBurst     int     `toml:"chat_burst"`
	// CacheTTL is how long a photo's raw caption is kept for the buttons.
	CacheTTL duration `toml:"cache_ttl"`
	// JobTimeout bounds one photo (download, caption, refine).
	JobTimeout duration `toml:"job_timeout"`
	// MaxQueueWait bounds a photo's wait for a captioning worker (then the
	// user is asked to try again) and for an LLM slot (then the offline
	// post is sent).
	MaxQueueWait duration `toml:"max_queue_wait"`
	// ShutdownGrace is how long accepted photos may take to finish after
	// SIGINT/SIGTERM.
	ShutdownGrace duration `toml:"shutdown_grace"`
}

// logConfig is the [log] section.
type logConfig struct {
	// Level is debug, info, warn or error.
	Level string `toml:"level"`
	// Format is text or json.
	Format string `toml:"format"`
}

// duration is a time.Duration written as a string ("30s", "1h") in TOML.
type duration struct{ time.Duration }

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

func (d duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (bc *botConfig) defaults() {
	*bc = botConfig{
		DefaultNetwork: "instagram",
		UserPerMinute:  10, UserBurst: 10, // an album of ten goes through at once
		ChatPerMinute: 30, ChatBurst: 20,
		CacheTTL:      duration{time.Hour},
		JobTimeout:    duration{2 * time.Minute},
		MaxQueueWait:  duration{bot.DefaultMaxQueueWait},
		ShutdownGrace: duration{30 * time.Second},
	}
}

func (bc *botConfig) check() error {
	n, err := bot.ParseNetwork(bc.DefaultNetwork)
	if err != nil {
		return fmt.Errorf("bot.default_network %q: choose one of %s", bc.DefaultNetwork, strings.Join(bot.Networks, ", "))
	}
	bc.DefaultNetwork = n
	for _, v := range []struct {
		key string
		val float64
	}{
		{"workers", float64(bc.Workers)}, {"queue_size", float64(bc.QueueSize)},
		{"user_per_minute", bc.UserPerMinute}, {"user_burst", float64(bc.UserBurst)},
		{"chat_per_minute", bc.ChatPerMinute}, {"chat_burst", float64(bc.ChatBurst)},
	} {
		if v.val < 0 {
			return fmt.Errorf("bot.%s is %v; it must not be negative", v.key, v.val)
		}
	}
	for _, v := range []struct {
		key string
		d   time.Duration
	}{{"cache_ttl", bc.CacheTTL.Duration}, {"job_timeout", bc.JobTimeout.Duration}, {"shutdown_grace", bc.ShutdownGrace.Duration},
		{"max_queue_wait", bc.MaxQueueWait.Duration}} {
		if v.d <= 0 {
			return fmt.Errorf("bot.%s must be positive", v.key)
		}
	}
	return nil
}

func (lc *logConfig) defaults() { *lc = logConfig{Level: "info", Format: "text"} }

func (lc *logConfig) check() error {
	if _, err := parseLevel(lc.Level); err != nil {
		return err
	}
	if lc.Format != "text" && lc.Format != "json" {
		return fmt.Errorf("log.format is %q; use \"text\" or \"json\"", lc.Format)
	}
	return nil
}

// perMinute turns a per-minute rate into a rate.Limit (0 = no limit).
func perMinute(n float64) rate.Limit { return rate.Limit(n / 60) }

// applyBotConfig sets the service's options from [bot].
func applyBotConfig(svc *bot.Service, bc botConfig) {
	svc.DefaultNetwork = bc.DefaultNetwork
	svc.Workers = bc.Workers
	svc.QueueSize = bc.QueueSize
	svc.UserRate, svc.UserBurst = perMinute(bc.UserPerMinute), bc.UserBurst
	svc.ChatRate, svc.ChatBurst = perMinute(bc.ChatPerMinute), bc.ChatBurst
	svc.CacheTTL = bc.CacheTTL.Duration
	svc.JobTimeout = bc.JobTimeout.Duration
	svc.MaxQueueWait = bc.MaxQueueWait.Duration
	svc.ShutdownGrace = bc.ShutdownGrace.Duration
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log.level is %q; use debug, info, warn or error", s)
	}
	return l, nil
}

// newLogger builds the process logger from [log], writing to w.
func newLogger(lc logConfig, w io.Writer) *slog.Logger {
	level, _ := parseLevel(lc.Level) // checked when the config was loaded
	opts := &slog.HandlerOptions{Level: level}
	if lc.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
