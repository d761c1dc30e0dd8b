package main

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"

	"github.com/captionbot/captionbot/adapters/telegram"
)

// telegramConfig is the [telegram] section.
type telegramConfig struct {
	// Token is the bot token from @BotFather; $CAPTIONBOT_TELEGRAM_TOKEN
	// wins. Empty: the Telegram adapter does not start.
	Token string `toml:"token"`
	// APIEndpoint and FileEndpoint are format strings (token, then method or
	// file path), for a local Bot API server or a test server.
	APIEndpoint  string `toml:"api_endpoint"`
	FileEndpoint string `toml:"file_endpoint"`
	// Mode is "polling" (default) or "webhook".
	Mode string `toml:"mode"`
	// PollTimeout is getUpdates' long-poll timeout.
	PollTimeout duration `toml:"poll_timeout"`
	// MaxFileMB is the largest file downloaded (20 on Telegram's servers;
	// a local Bot API server allows more).
	MaxFileMB int `toml:"max_file_mb"`
	// PhotoDeadline is how long a photo request rides out a Bot API outage
	// (getFile, download and reply retried with backoff) before it is kept
	// in the journal for the next start.
	PhotoDeadline duration `toml:"photo_deadline"`
	// WebhookURL is the public HTTPS URL Telegram posts to (webhook mode);
	// WebhookListen the local address served (TLS ends at a proxy);
	// WebhookSecret the secret_token checked on every request
	// ($CAPTIONBOT_TELEGRAM_WEBHOOK_SECRET wins).
	WebhookURL    string `toml:"webhook_url"`
	WebhookListen string `toml:"webhook_listen"`
	WebhookSecret string `toml:"webhook_secret"`
}

// Environment variables that win over the file, so secrets can stay out of it.
const (
	envTelegramToken  = "CAPTIONBOT_TELEGRAM_TOKEN"
	envTelegramSecret = "CAPTIONBOT_TELEGRAM_WEBHOOK_SECRET"
)

// webhookSecretPattern is what Telegram accepts as secret_token.
var webhookSecretPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (tc *telegramConfig) defaults() {
	*tc = telegramConfig{
		APIEndpoint:   telegram.DefaultAPIEndpoint,
		FileEndpoint:  telegram.DefaultFileEndpoint,
		Mode:          "polling",
		PollTimeout:   duration{30 * time.Second},
		MaxFileMB:     20,
		PhotoDeadline: duration{90 * time.Second},
		WebhookListen: ":8443",
	}
}

// check applies the environment variables and checks the section.
func (tc *telegramConfig) check() error {
	if v := os.Getenv(envTelegramToken); v != "" {
		tc.Token = v
	}
	if v := os.Getenv(envTelegramSecret); v != "" {
		tc.WebhookSecret = v
	}
	if tc.Token == "" {
		return nil // adapter off: nothing else matters
	}
	switch tc.Mode {
	case "polling":
	case "webhook":
		u, err := url.Parse(tc.WebhookURL)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("telegram.webhook_url %q must be an https:// URL in webhook mode", tc.WebhookURL)
		}
		if !webhookSecretPattern.MatchString(tc.WebhookSecret) {
			return fmt.Errorf("telegram.webhook_secret must be 1-256 characters of A-Z, a-z, 0-9, _ and - in webhook mode")
		}
	default:
		return fmt.Errorf("telegram.mode is %q; use \"polling\" or \"webhook\"", tc.Mode)
	}
	if tc.PollTimeout.Duration < time.Second || tc.PollTimeout.Duration > 50*time.Second {
		return fmt.Errorf("telegram.poll_timeout is %s; use 1s to 50s", tc.PollTimeout.Duration)
	}
	if tc.PhotoDeadline.Duration < time.Second || tc.PhotoDeadline.Duration > time.Hour {
		return fmt.Errorf("telegram.photo_deadline is %s; use 1s to 1h", tc.PhotoDeadline.Duration)
	}
	if tc.MaxFileMB < 1 || tc.MaxFileMB > 2000 {
		return fmt.Errorf("telegram.max_file_mb is %d; use 1 to 2000", tc.MaxFileMB)
	}
	return nil
}
