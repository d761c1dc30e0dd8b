package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// startServeWeb runs "captionbot serve" and returns the playground's URL
// from its output, and stop (SIGTERM), which returns the exit code.
func startServeWeb(t *testing.T, dp deps, cfgPath string) (url string, stop func() int, stderr *safeBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &safeBuffer{}
	stdout := &safeBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, dp, []string{"serve", "--config", cfgPath}, stdout, stderr) }()
	var once sync.Once
	stop = func() int {
		c := -1
		once.Do(func() {
			cancel()
			select {
			case c = <-code:
			case <-time.After(30 * time.Second):
				t.Error("serve did not stop")
			}
		})
		return c
	}
	t.Cleanup(func() { stop() })
	re := regexp.MustCompile(`web playground at (http://\S+/)`)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			waitModels(t, m[1])
			return m[1], stop, stderr
		}
		select {
		case c := <-code:
			t.Fatalf("serve exited %d:\n%s", c, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no URL printed; stderr:\n%s", stderr.String())
	return "", nil, nil
}

// waitModels waits until serve at url has loaded the models (HTTP starts
// before).
func waitModels(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(url + "readyz")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "models") {
			return
		}
	}
	t.Fatal("the models never loaded")
}

func webConfig(t *testing.T, extra string) string {
	t.Helper()
	t.Setenv(envTelegramToken, "")
	t.Setenv(envDiscordToken, "")
	return writeConfig(t, fmt.Sprintf(`
[store]
path = %q
[bot]
workers = 2
%s`, filepath.Join(t.TempDir(), "captionbot.db"), extra))
}

func TestServeWebAlone(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	url, stop, stderr := startServeWeb(t, dp, webConfig(t, ""))

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("image", "dog.jpg")
	fw.Write([]byte("jpeg"))
	mw.WriteField("network", "x")
	mw.Close()
	resp, err := http.Post(url+"v1/captions", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Caption, Post, Network string
		Hashtags               []string
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 ||
		got.Network != "x" || !strings.Contains(got.Post, "dog") {
		t.Errorf("status %d, %+v, %v", resp.StatusCode, got, err)
	}
	resp.Body.Close()
	for _, p := range []string{"", "healthz", "readyz"} {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("/%s: %d", p, resp.StatusCode)
		}
	}
	if code := stop(); code != exitOK {
		t.Fatalf("exit %d:\n%s", code, stderr.String())
	}
}

// TestServeReadyzWaitsForPlatforms: /readyz is 503 while a configured
// platform is not connected, with the platform named.
func TestServeReadyzWaitsForPlatforms(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	down, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer down.Close()
	cfg := webConfig(t, fmt.Sprintf(`[telegram]
token = "123:abc"
api_endpoint = "http://%s/bot%%s/%%s"
`, down.Addr()))
	url, _, _ := startServeWeb(t, dp, cfg)
	resp, err := http.Get(url + "readyz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "telegram: not connected") {
		t.Errorf("readyz %d %s", resp.StatusCode, b)
	}
}

func TestServeRefusesOpenAPIOnPublicAddress(t *testing.T) {
	t.Setenv(envHTTPListen, "0.0.0.0:0")
	var stderr bytes.Buffer
	code := run(context.Background(), defaultDeps(), []string{"serve", "--config", webConfig(t, "")}, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "api_keys") || !strings.Contains(stderr.String(), "public = true") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

func TestServePortInUse(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv(envHTTPListen, ln.Addr().String())
	var stderr bytes.Buffer
	code := run(context.Background(), dp, []string{"serve", "--config", webConfig(t, "")}, io.Discard, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "in use") || !strings.Contains(stderr.String(), "another port") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

func TestHTTPConfigChecks(t *testing.T) {
	hermeticConfigEnv(t)
	t.Setenv(envHTTPListen, "")
	os.Unsetenv(envHTTPListen) // restored by Setenv's cleanup
	for _, tc := range []struct{ text, want string }{
		{"[http]\nlisten = \"0.0.0.0:8080\"", "reachable from other machines"},
		{"[http]\nlisten = \"8080\"", "want HOST:PORT"},
		{"[http]\nmax_upload_mb = 0", "max_upload_mb"},
		{"[http]\nwrite_timeout = \"1m\"", "longer than bot.job_timeout"},
		{"[http]\ntrusted_proxies = [\"nope\"]", "trusted_proxies"},
		{"[http]\napi_keys = [\"short\"]", "16 characters"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want %q", tc.text, err, tc.want)
		}
	}
	for _, ok := range []string{
		"[http]\nlisten = \"0.0.0.0:8080\"\npublic = true",
		"[http]\nlisten = \"[::]:8080\"\napi_keys = [\"0123456789abcdef\"]",
		"[http]\nlisten = \"localhost:8080\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]",
		"[http]\nlisten = \"\"",
	} {
		if _, err := loadConfig(writeConfig(t, ok)); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeMetrics(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	url, _, stderr := startServeWeb(t, dp, webConfig(t, "user_per_minute = 1\nuser_burst = 1\n[http]\napi_keys = [\"key-0123456789abcdef\"]\n"))
	req, _ := http.NewRequest(http.MethodPost, url+"v1/captions?network=x", strings.NewReader("jpeg"))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer key-0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("caption: %d", resp.StatusCode)
	}
	// The second photo is over the rate limit.
	req, _ = http.NewRequest(http.MethodPost, url+"v1/captions?network=x", strings.NewReader("jpeg"))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer key-0123456789abcdef")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 {
		t.Errorf("second photo: %d", resp.StatusCode)
	}
	// Refused without a key: the API is guarded, /metrics is not.
	resp, err = http.Post(url+"v1/captions", "image/jpeg", strings.NewReader("jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("without a key: %d", resp.StatusCode)
	}
	wants := []string{`captionbot_photos_total{outcome="sent",platform="web"} 1`, `captionbot_stage_seconds_count{stage="total"} 1`,
		`captionbot_stage_seconds_count{stage="refine"} 1`, `captionbot_queue_depth 0`, `captionbot_refusals_total{platform="web",reason="unauthorized"} 1`,
		`captionbot_refusals_total{platform="web",reason="rate_limited"} 1`}
	// The job's last stages are recorded just after its answer is written,
	// so the counters may trail the HTTP reply by a moment.
	var (
		code int
		text string
	)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, text = get(t, url+"metrics")
		missing := false
		for _, want := range wants {
			missing = missing || !strings.Contains(text, want+"\n")
		}
		if code == 200 && !missing || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if code != 200 || !strings.Contains(text, want+"\n") {
			t.Errorf("metrics (%d) lack %q", code, want)
		}
	}
	if strings.Contains(text, "0123456789abcdef") || strings.Contains(stderr.String(), "0123456789abcdef") {
		t.Error("the API key reached the metrics or the log")
	}
}

func TestServeMetricsListen(t *testing.T) {
	dp, _ := useDescriber(t, &bottest.Describer{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	url, _, _ := startServeWeb(t, dp, webConfig(t, fmt.Sprintf("[http]\nmetrics_listen = %q\n", addr)))
	if code, _ := get(t, url+"metrics"); code != 404 {
		t.Errorf("/metrics on the main address: %d", code)
	}
	for _, p := range []string{"metrics", "healthz", "readyz"} {
		if code, _ := get(t, "http://"+addr+"/"+p); code != 200 {
			t.Errorf("/%s on metrics_listen: %d", p, code)
		}
	}
}

// TestServeHTTPBeforeModels: HTTP answers while the models load: /healthz
// 200, /readyz 503 naming the models, photos 503 with Retry-After.
func TestServeHTTPBeforeModels(t *testing.T) {
	release := make(chan struct{})
	dp := defaultDeps()
	dp.openDescriber = func(cfg *config) (bot.Describer, io.Closer, error) {
		<-release
		return &bottest.Describer{}, io.NopCloser(nil), nil
	}
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &safeBuffer{}, &safeBuffer{}
	code := make(chan int, 1)
	go func() { code <- run(ctx, dp, []string{"serve", "--config", webConfig(t, "")}, stdout, stderr) }()
	re := regexp.MustCompile(`web playground at (http://\S+/)`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no URL before the models loaded:\n%s", stderr.String())
		}
	}
	if c, _ := get(t, url+"healthz"); c != 200 {
		t.Errorf("healthz %d", c)
	}
	if c, body := get(t, url+"readyz"); c != 503 || !strings.Contains(body, "models: not loaded") {
		t.Errorf("readyz %d %s", c, body)
	}
	resp, err := http.Post(url+"v1/captions", "image/jpeg", strings.NewReader("jpeg"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("photo while loading: %d", resp.StatusCode)
	}
	close(release)
	waitModels(t, url)
	if c, _ := get(t, url+"readyz"); c != 200 {
		t.Errorf("readyz after loading: %d", c)
	}
	cancel()
	if c := <-code; c != exitOK {
		t.Errorf("exit %d:\n%s", c, stderr.String())
	}
}
