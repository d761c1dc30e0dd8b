package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/captionbot/captionbot/adapters/openai"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner"
	"github.com/captionbot/captionbot/refiner"
)

// refinerConfig is the [refiner] section: which refiner turns captions into
// posts, and how to reach an OpenAI-compatible server.
type refinerConfig struct {
	// Provider is "offline" (default: templates, no network) or "openai"
	// (any OpenAI-compatible server, with the offline refiner as fallback).
	Provider string `toml:"provider"`
	// BaseURL is the server's API root: empty for OpenAI, or e.g.
	// "http://localhost:11434/v1" (Ollama), "http://localhost:8080/v1"
	// (llama.cpp server), "http://localhost:8000/v1" (vLLM).
	BaseURL string `toml:"base_url"`
	// APIKey is the bearer token; $OPENAI_API_KEY wins. Local servers
	// need none.
	APIKey string `toml:"api_key"`
	// Model is the model name the server knows (required for "openai").
	Model string `toml:"model"`
	// Timeout bounds the LLM per post, retries included; then the offline
	// post is sent.
	Timeout duration `toml:"timeout"`
	// MaxRetries is how many times a 429, 5xx or network failure is retried.
	MaxRetries int `toml:"max_retries"`
	// Temperature is the sampling temperature; 0 leaves the server's default.
	Temperature float64 `toml:"temperature"`
	// SendImage sends the photo, downscaled to 512 px, to vision models.
	SendImage bool `toml:"send_image"`
	// Concurrency is the number of posts refined at once (LLM calls in
	// flight); captioning goes on meanwhile.
	Concurrency int `toml:"concurrency"`
}

// envOpenAIKey wins over refiner.api_key, so the key can stay out of files.
const envOpenAIKey = "OPENAI_API_KEY"

// Refiner providers.
const (
	providerOffline = "offline"
	providerOpenAI  = "openai"
)

func (rc *refinerConfig) defaults() {
	*rc = refinerConfig{
		Provider:    providerOffline,
		Timeout:     duration{refiner.DefaultTimeout},
		MaxRetries:  2,
		Concurrency: bot.DefaultRefineWorkers,
	}
}

// check applies the environment variable and checks the section.
func (rc *refinerConfig) check() error {
	if v := os.Getenv(envOpenAIKey); v != "" {
		rc.APIKey = v
	}
	if rc.Concurrency < 1 || rc.Concurrency > 256 {
		return fmt.Errorf("refiner.concurrency is %d; use 1 to 256", rc.Concurrency)
	}
	switch rc.Provider {
	case providerOffline:
		return nil // nothing else is used
	case providerOpenAI:
	default:
		return fmt.Errorf("refiner.provider is %q; use %q or %q", rc.Provider, providerOffline, providerOpenAI)
	}
	if rc.Model == "" {
		return fmt.Errorf("refiner.model is required with provider %q (e.g. \"gpt-4o-mini\", or \"llama3.2\" on Ollama)", providerOpenAI)
	}
	if rc.BaseURL != "" {
		u, err := url.Parse(rc.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("refiner.base_url must be an http:// or https:// URL, such as http://localhost:11434/v1")
		}
	}
	if rc.Timeout.Duration < time.Second || rc.Timeout.Duration > 5*time.Minute {
		return fmt.Errorf("refiner.timeout is %s; use 1s to 5m", rc.Timeout.Duration)
	}
	if rc.MaxRetries < 0 || rc.MaxRetries > 10 {
		return fmt.Errorf("refiner.max_retries is %d; use 0 to 10", rc.MaxRetries)
	}
	if rc.Temperature < 0 || rc.Temperature > 2 {
		return fmt.Errorf("refiner.temperature is %g; use 0 to 2", rc.Temperature)
	}
	return nil
}

// offlineRefiner is the service's Fallback: the offline refiner, for
// photos that waited too long for an LLM slot.
func offlineRefiner(log *slog.Logger) bot.Refiner {
	r := refiner.New(nil)
	r.Log = log
	return r
}

// openRefiner builds the refiner the [refiner] section describes: the
// offline refiner alone, or an OpenAI-compatible client with the offline
// refiner as its fallback. It logs which, never the key.
func openRefiner(cfg *config, log *slog.Logger) (bot.Refiner, error) {
	rc := cfg.Refiner
	if rc.Provider != providerOpenAI {
		r := refiner.New(nil)
		r.Log = log
		log.Debug("refiner ready", "provider", providerOffline)
		return r, nil
	}
	client, err := openai.New(openai.Config{
		BaseURL:     rc.BaseURL,
		APIKey:      rc.APIKey,
		Model:       rc.Model,
		Timeout:     rc.Timeout.Duration,
		MaxRetries:  rc.MaxRetries,
		Temperature: float32(rc.Temperature),
		SendImage:   rc.SendImage,
		DecodeImage: captioner.DecodeImage, // honours EXIF orientation
	})
	if err != nil {
		return nil, fmt.Errorf("refiner: %w", err)
	}
	r := refiner.New(client)
	r.Timeout = rc.Timeout.Duration
	r.Log = log
	base := openai.DefaultBaseURL
	if rc.BaseURL != "" {
		base = rc.BaseURL
	}
	if u, err := url.Parse(base); err == nil {
		base = u.Redacted() // a user:password in the URL stays out of logs
	}
	log.Debug("refiner ready", "provider", providerOpenAI, "model", rc.Model, "base_url", base,
		"timeout", rc.Timeout.Duration, "send_image", rc.SendImage, "api_key_set", rc.APIKey != "")
	return r, nil
}
