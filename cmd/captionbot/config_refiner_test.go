package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

func TestLoadConfigRefinerDefaults(t *testing.T) {
	t.Setenv(envOpenAIKey, "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	want := refinerConfig{Provider: "offline", Timeout: duration{20 * time.Second}, MaxRetries: 2, Concurrency: 8}
	if diff := cmp.Diff(want, cfg.Refiner); diff != "" {
		t.Errorf("default [refiner] (-want +got):\n%s", diff)
	}
}

func TestLoadConfigRefiner(t *testing.T) {
	p := writeConfig(t, `
[refiner]
provider = "openai"
base_url = "http://localhost:11434/v1"
api_key = "from-file"
model = "llama3.2"
timeout = "15s"
max_retries = 3
temperature = 0.8
send_image = true
concurrency = 4
`)
	t.Setenv(envOpenAIKey, "")
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := refinerConfig{Provider: "openai", BaseURL: "http://localhost:11434/v1", APIKey: "from-file", Model: "llama3.2",
		Timeout: duration{15 * time.Second}, MaxRetries: 3, Temperature: 0.8, SendImage: true, Concurrency: 4}
	if diff := cmp.Diff(want, cfg.Refiner); diff != "" {
		t.Errorf("[refiner] (-want +got):\n%s", diff)
	}

	t.Setenv(envOpenAIKey, "from-env")
	if cfg, err = loadConfig(p); err != nil || cfg.Refiner.APIKey != "from-env" {
		t.Errorf("$%s does not win: %q, %v", envOpenAIKey, cfg.Refiner.APIKey, err)
	}
}

func TestLoadConfigRefinerErrors(t *testing.T) {
	t.Setenv(envOpenAIKey, "sk-secret-from-env")
	for name, tc := range map[string]struct{ toml, want string }{
		"provider":    {"provider = \"gpt\"", "refiner.provider"},
		"no model":    {"provider = \"openai\"", "refiner.model"},
		"base url":    {"provider = \"openai\"\nmodel = \"m\"\nbase_url = \"localhost:11434\"", "refiner.base_url"},
		"timeout":     {"provider = \"openai\"\nmodel = \"m\"\ntimeout = \"10ms\"", "refiner.timeout"},
		"retries":     {"provider = \"openai\"\nmodel = \"m\"\nmax_retries = -1", "refiner.max_retries"},
		"temperature": {"provider = \"openai\"\nmodel = \"m\"\ntemperature = 3.5", "refiner.temperature"},
		"unknown key": {"provder = \"openai\"", "refiner.provder"},
		"concurrency": {"concurrency = 0", "refiner.concurrency"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadConfig(writeConfig(t, "[refiner]\n"+tc.toml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one naming %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "sk-secret") {
				t.Errorf("error leaks the key: %v", err)
			}
		})
	}
}

func TestOpenRefinerOffline(t *testing.T) {
	t.Setenv(envOpenAIKey, "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := openRefiner(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	p, err := r.Refine(context.Background(), bot.RefineRequest{Description: bot.Description{Caption: "a cat on a sofa"}, Network: "plain", Hashtags: -1})
	if err != nil || p.Text != "A cat on a sofa." || p.WrittenBy != "offline" {
		t.Errorf("Refine = %+v, %v", p, err)
	}
}

// fakeLLM is an OpenAI-compatible server that answers every chat
// completion with post, and records the Authorization header.
func fakeLLM(t *testing.T, post map[string]any) (*httptest.Server, *string) {
	t.Helper()
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		b, _ := json.Marshal(post)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"choices": []map[string]any{{
			"index": 0, "finish_reason": "stop", "message": map[string]any{"role": "assistant", "content": string(b)},
		}}})
	}))
	t.Cleanup(srv.Close)
	return srv, &auth
}

func TestOpenRefinerOpenAI(t *testing.T) {
	srv, auth := fakeLLM(t, map[string]any{"caption": "Sofa king.", "hashtags": []string{"#cat"}, "alt_text": "A cat on a sofa."})
	p := writeConfig(t, `
[refiner]
provider = "openai"
base_url = "`+srv.URL+`/v1"
model = "test-model"
timeout = "5s"
`)
	t.Setenv(envOpenAIKey, "sk-env-key-123")
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	r, err := openRefiner(cfg, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	post, err := r.Refine(context.Background(), bot.RefineRequest{Description: bot.Description{Caption: "a cat on a sofa"}, Network: "x", Hashtags: -1})
	if err != nil {
		t.Fatal(err)
	}
	if post.WrittenBy != "openai" || post.Text != "Sofa king. #cat" {
		t.Errorf("post = %+v", post)
	}
	if *auth != "Bearer sk-env-key-123" {
		t.Errorf("Authorization = %q", *auth)
	}
	if strings.Contains(logs.String(), "sk-env-key") || !strings.Contains(logs.String(), "api_key_set=true") {
		t.Errorf("logs = %s", logs.String())
	}
}
