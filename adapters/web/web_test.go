package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
	"github.com/captionbot/captionbot/prompts"
)

// jpeg is enough of a photo for the fake describer.
var jpeg = []byte("\xff\xd8\xff\xe0 fake jpeg")

// newService starts a bot.Service with fakes; tweak may set options.
func newService(t testing.TB, d bot.Describer, tweak func(*bot.Service)) *bot.Service {
	t.Helper()
	if d == nil {
		d = &bottest.Describer{}
	}
	svc := bot.NewService(d, &bottest.Refiner{}, &bottest.Preferences{})
	svc.Workers = 2
	svc.Log = slog.New(slog.DiscardHandler)
	if tweak != nil {
		tweak(svc)
	}
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = svc.Shutdown(ctx)
	})
	return svc
}

func newTestServer(t *testing.T, s *Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// multipartBody builds a form with the photo in "image" and fields.
func multipartBody(t testing.TB, img []byte, fields map[string]string) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if img != nil {
		fw, err := mw.CreateFormFile("image", "photo.jpg")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(img)
	}
	mw.Close()
	return &b, mw.FormDataContentType()
}

func do(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func post(t *testing.T, url string, img []byte, fields map[string]string) (*http.Response, []byte) {
	t.Helper()
	body, ct := multipartBody(t, img, fields)
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/captions", body)
	req.Header.Set("Content-Type", ct)
	return do(t, req)
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("not an error body (%v): %s", err, b)
	}
	return e.Error.Code
}

func TestCaptionMultipart(t *testing.T) {
	ts := newTestServer(t, New(newService(t, nil, nil)))
	resp, b := post(t, ts.URL, jpeg, map[string]string{"network": "twitter", "tone": "witty", "lang": "de", "hashtags": "2", "variant": "3", "hint": "a walk"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	var got CaptionResponse
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Network != "x" || got.Tone != "witty" || got.Language != "de" || got.Variant != 3 ||
		!strings.Contains(got.Post, "[x/witty/de/v3] a dog runs through the grass") ||
		got.Caption != bottest.DefaultDescription.Caption || len(got.Labels) != 1 || got.Objects == nil ||
		got.MaxLength != 280 || got.Length != prompts.WeightedLength(got.Post) {
		t.Errorf("got %+v", got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
}

func TestCaptionRawBodyAndQuery(t *testing.T) {
	d := &bottest.Describer{}
	ts := newTestServer(t, New(newService(t, d, nil)))
	for variant := range 2 {
		req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/v1/captions?network=linkedin&variant=%d", ts.URL, variant), bytes.NewReader(jpeg))
		req.Header.Set("Content-Type", "image/jpeg")
		resp, b := do(t, req)
		var got CaptionResponse
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &got) != nil || got.Network != "linkedin" || got.Variant != variant {
			t.Fatalf("status %d: %s", resp.StatusCode, b)
		}
		if got.Cached != (variant == 1) {
			t.Errorf("variant %d: cached %v", variant, got.Cached)
		}
	}
	if d.Calls() != 1 {
		t.Errorf("described %d times; Regenerate should use the cache", d.Calls())
	}
}

func TestCaptionErrors(t *testing.T) {
	describer := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		switch string(img) {
		case "pdf":
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrNotImage)
		case "broken":
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrCorruptImage)
		case "huge":
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrImageTooLarge)
		case "boom":
			return bot.Description{}, errors.New("onnx: secret internal detail")
		}
		return bottest.DefaultDescription, nil
	}}
	srv := New(newService(t, describer, nil))
	srv.MaxUpload = 1 << 10
	var refused []string
	srv.Refused = func(r string) { refused = append(refused, r) }
	ts := newTestServer(t, srv)

	raw := func(ct string, body []byte) func() (*http.Response, []byte) {
		return func() (*http.Response, []byte) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/captions", bytes.NewReader(body))
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			return do(t, req)
		}
	}
	form := func(img []byte, fields map[string]string) func() (*http.Response, []byte) {
		return func() (*http.Response, []byte) { return post(t, ts.URL, img, fields) }
	}
	for _, tc := range []struct {
		name   string
		send   func() (*http.Response, []byte)
		status int
		code   string
	}{
		{"no image field", form(nil, map[string]string{"network": "x"}), 400, "no_image"},
		{"empty image", form([]byte{}, nil), 400, "empty_image"},
		{"bad network", form(jpeg, map[string]string{"network": "myspace"}), 400, "bad_network"},
		{"bad tone", form(jpeg, map[string]string{"tone": "angry"}), 400, "bad_tone"},
		{"bad lang", form(jpeg, map[string]string{"lang": "klingon"}), 400, "bad_lang"},
		{"bad hashtags", form(jpeg, map[string]string{"hashtags": "99"}), 400, "bad_hashtags"},
		{"bad variant", form(jpeg, map[string]string{"variant": "-1"}), 400, "bad_variant"},
		{"long hint", form(jpeg, map[string]string{"hint": strings.Repeat("x", 501)}), 400, "bad_hint"},
		{"corrupt", form([]byte("broken"), nil), 400, "corrupt_image"},
		{"not an image", form([]byte("pdf"), nil), 415, "not_image"},
		{"too many pixels", form([]byte("huge"), nil), 413, "image_too_large"},
		{"over max_upload_mb", form(bytes.Repeat([]byte("x"), 2<<10), nil), 413, "too_large"},
		{"raw over max_upload_mb", raw("image/png", bytes.Repeat([]byte("x"), 2<<10)), 413, "too_large"},
		{"huge body", raw("image/png", bytes.Repeat([]byte("x"), 1<<20)), 413, "too_large"},
		{"text body", raw("text/plain", []byte("hello")), 415, "unsupported_media_type"},
		{"no content type", raw("", jpeg), 415, "unsupported_media_type"},
		{"internal", form([]byte("boom"), nil), 500, "internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, b := tc.send()
			if resp.StatusCode != tc.status || errorCode(t, b) != tc.code {
				t.Errorf("status %d, body %s; want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
			if strings.Contains(string(b), "secret") {
				t.Errorf("internal detail leaked: %s", b)
			}
		})
	}
	if len(refused) == 0 {
		t.Error("Refused was never told")
	}
}

func TestCaptionRateLimited(t *testing.T) {
	svc := newService(t, nil, func(s *bot.Service) { s.UserRate = rate.Every(time.Hour); s.UserBurst = 1 })
	ts := newTestServer(t, New(svc))
	if resp, b := post(t, ts.URL, jpeg, nil); resp.StatusCode != 200 {
		t.Fatalf("first: %d %s", resp.StatusCode, b)
	}
	resp, b := post(t, ts.URL, jpeg, nil)
	if resp.StatusCode != http.StatusTooManyRequests || errorCode(t, b) != "rate_limited" {
		t.Fatalf("second: %d %s", resp.StatusCode, b)
	}
	if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
}

func TestCaptionBusy(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 8)
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		started <- struct{}{}
		<-release
		return bottest.DefaultDescription, nil
	}}
	svc := newService(t, d, func(s *bot.Service) { s.Workers = 1; s.QueueSize = 1; s.RefineWorkers = 1 })
	ts := newTestServer(t, New(svc))
	defer close(release)
	// One photo is captioned, one waits in the queue; the third is refused.
	go post(t, ts.URL, []byte("photo 1"), nil)
	<-started
	go post(t, ts.URL, []byte("photo 2"), nil)
	for deadline := time.Now().Add(5 * time.Second); svc.Queued() < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second photo was never queued")
		}
	}
	resp, b := post(t, ts.URL, []byte("photo 3"), nil)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, b) != "busy" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("busy answer %d %s, Retry-After %q", resp.StatusCode, b, resp.Header.Get("Retry-After"))
	}
}

func TestCaptionStopped(t *testing.T) {
	svc := newService(t, nil, nil)
	if err := svc.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, New(svc))
	resp, b := post(t, ts.URL, jpeg, nil)
	if resp.StatusCode != http.StatusServiceUnavailable || errorCode(t, b) != "stopped" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
}

func TestAPIKeys(t *testing.T) {
	srv := New(newService(t, nil, nil))
	srv.APIKeys = []string{"k-one", "k-two"}
	ts := newTestServer(t, srv)
	for _, tc := range []struct {
		auth   string
		status int
	}{{"", 401}, {"Bearer wrong", 401}, {"Basic k-one", 401}, {"Bearer k-two", 200}} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/v1/networks", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, b := do(t, req)
		if resp.StatusCode != tc.status {
			t.Errorf("%q: %d %s", tc.auth, resp.StatusCode, b)
		}
		if tc.status == 401 && (errorCode(t, b) != "unauthorized" || resp.Header.Get("WWW-Authenticate") == "") {
			t.Errorf("%q: %s", tc.auth, b)
		}
	}
	// The page, health and the API description stay open.
	for _, p := range []string{"/", "/healthz", "/v1/openapi.json"} {
		if resp, _ := do(t, mustGet(t, ts.URL+p)); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func mustGet(t *testing.T, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestNetworks(t *testing.T) {
	ts := newTestServer(t, New(newService(t, nil, nil)))
	resp, b := do(t, mustGet(t, ts.URL+"/v1/networks"))
	var got NetworksResponse
	if resp.StatusCode != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if len(got.Networks) != len(bot.Networks) || len(got.Tones) != len(bot.Tones) || len(got.Languages) == 0 {
		t.Errorf("got %+v", got)
	}
	for i, n := range got.Networks {
		if n.Name != bot.Networks[i] || n.Title == "" || n.MaxLength == 0 {
			t.Errorf("network %d: %+v", i, n)
		}
	}
}

func TestNotFoundAndMethod(t *testing.T) {
	ts := newTestServer(t, New(newService(t, nil, nil)))
	resp, b := do(t, mustGet(t, ts.URL+"/v1/nothing"))
	if resp.StatusCode != 404 || errorCode(t, b) != "not_found" {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	resp, _ = do(t, mustGet(t, ts.URL+"/v1/captions"))
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/captions: %d", resp.StatusCode)
	}
}

func TestHealthAndReady(t *testing.T) {
	var reasons []string
	srv := New(newService(t, nil, nil))
	srv.Ready = func() []string { return reasons }
	srv.Metrics = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metric 1\n") })
	ts := newTestServer(t, srv)
	if resp, b := do(t, mustGet(t, ts.URL+"/healthz")); resp.StatusCode != 200 || !strings.Contains(string(b), "ok") {
		t.Errorf("healthz %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, mustGet(t, ts.URL+"/readyz")); resp.StatusCode != 200 {
		t.Errorf("readyz %d %s", resp.StatusCode, b)
	}
	reasons = []string{"telegram: not connected"}
	if resp, b := do(t, mustGet(t, ts.URL+"/readyz")); resp.StatusCode != 503 || !strings.Contains(string(b), "telegram: not connected") {
		t.Errorf("readyz %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, mustGet(t, ts.URL+"/metrics")); resp.StatusCode != 200 || string(b) != "metric 1\n" {
		t.Errorf("metrics %d %s", resp.StatusCode, b)
	}
}

func TestPageIsSelfContained(t *testing.T) {
	ts := newTestServer(t, New(newService(t, nil, nil)))
	resp, b := do(t, mustGet(t, ts.URL+"/"))
	if resp.StatusCode != 200 || !strings.Contains(string(b), `accept="image/*"`) || !strings.Contains(string(b), "No photo is stored") {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP allows unsafe: %q", csp)
	}
	for _, f := range []string{"index.html", "app.js", "style.css"} { // favicon.svg has only its xmlns
		b, err := static.ReadFile("static/" + f)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"http://", "https://", "//fonts", "@import", "<script>", "style=\"", "onclick"} {
			if strings.Contains(string(b), bad) {
				t.Errorf("%s contains %q: the page must load nothing from outside and need no inline code", f, bad)
			}
		}
	}
	for _, p := range []string{"/app.js", "/style.css"} {
		if resp, _ := do(t, mustGet(t, ts.URL+p)); resp.StatusCode != 200 || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}

func TestClientAddr(t *testing.T) {
	s := &Server{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, tc := range []struct {
		remote, xff, want string
	}{
		{"192.0.2.1:5000", "", "192.0.2.1"},
		{"192.0.2.1:5000", "203.0.113.9", "192.0.2.1"}, // an untrusted peer's header is ignored
		{"10.1.2.3:5000", "203.0.113.9", "203.0.113.9"},
		{"10.1.2.3:5000", "198.51.100.7, 203.0.113.9, 10.0.0.5", "203.0.113.9"},
		{"10.1.2.3:5000", "", "10.1.2.3"},
		{"10.1.2.3:5000", "garbage", "10.1.2.3"},
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := s.clientAddr(r); got != tc.want {
			t.Errorf("%s via %q: got %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func TestRateKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2::9":      "2001:db8:1:2::/64",
		"::1":                  "::1",
		"not-an-ip":            "not-an-ip",
	} {
		if got := rateKey(in); got != want {
			t.Errorf("rateKey(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestServeShutsDown(t *testing.T) {
	srv := New(newService(t, nil, nil))
	ts := httptest.NewUnstartedServer(nil)
	ln := ts.Listener
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}
