package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBotTelegramConfig(t *testing.T) {
	t.Setenv(envTelegramToken, "")
	t.Setenv(envTelegramSecret, "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Bot.DefaultNetwork != "instagram" || cfg.Telegram.Mode != "polling" || cfg.Store.Path != "captionbot.db" ||
		cfg.Bot.ShutdownGrace.Duration != 30*time.Second || cfg.Telegram.Token != "" {
		t.Errorf("defaults: %+v %+v %+v", cfg.Bot, cfg.Telegram, cfg.Store)
	}

	p := writeConfig(t, `
[telegram]
token = "from-file"
api_endpoint = "http://127.0.0.1:8081/bot%s/%s"
file_endpoint = "http://127.0.0.1:8081/file/bot%s/%s"
mode = "webhook"
webhook_url = "https://bot.example.com/hook"
webhook_secret = "from-file"
poll_timeout = "10s"
[store]
path = "data/bot.db"
[bot]
default_network = "Twitter"
workers = 3
user_per_minute = 2
cache_ttl = "10m"
[log]
level = "debug"
format = "json"
`)
	t.Setenv(envTelegramToken, "from-env")
	cfg, err = loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Telegram.Token != "from-env" || cfg.Telegram.WebhookSecret != "from-file" || cfg.Telegram.PollTimeout.Duration != 10*time.Second {
		t.Errorf("[telegram] %+v", cfg.Telegram)
	}
	if cfg.Bot.DefaultNetwork != "x" || cfg.Bot.Workers != 3 || cfg.Bot.CacheTTL.Duration != 10*time.Minute {
		t.Errorf("[bot] %+v", cfg.Bot)
	}
	if cfg.Store.Path != filepath.Join(filepath.Dir(p), "data/bot.db") {
		t.Errorf("[store] path %q", cfg.Store.Path)
	}
}

func TestBotTelegramConfigErrors(t *testing.T) {
	t.Setenv(envTelegramToken, "")
	t.Setenv(envTelegramSecret, "")
	for _, tc := range []struct{ text, want string }{
		{"[telegram]\ntoken = \"t\"\nmode = \"carrier-pigeon\"\n", "telegram.mode"},
		{"[telegram]\ntoken = \"t\"\nmode = \"webhook\"\nwebhook_url = \"http://insecure\"\nwebhook_secret = \"s\"\n", "https://"},
		{"[telegram]\ntoken = \"t\"\nmode = \"webhook\"\nwebhook_url = \"https://x.example/h\"\nwebhook_secret = \"bad secret!\"\n", "webhook_secret"},
		{"[telegram]\ntoken = \"t\"\npoll_timeout = \"5m\"\n", "poll_timeout"},
		{"[telegram]\npoll_timeout = \"soon\"\n", "poll_timeout"},
		{"[bot]\ndefault_network = \"myspace\"\n", "bot.default_network"},
		{"[bot]\nworkers = -1\n", "bot.workers"},
		{"[bot]\ncache_ttl = \"0s\"\n", "bot.cache_ttl"},
		{"[log]\nlevel = \"loud\"\n", "log.level"},
		{"[log]\nformat = \"xml\"\n", "log.format"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want it to mention %q", tc.text, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "token = ") {
			t.Errorf("error quotes the config: %v", err)
		}
	}
}
