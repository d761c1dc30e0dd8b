package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// Platform scopes the web's jobs (rate limits, the caption cache, logs).
const Platform = "web"

// Submitter is what the API needs of the bot: bot.Service.
type Submitter interface {
	Submit(bot.Job) error
}

var _ Submitter = (*bot.Service)(nil)

// Defaults of the Server's options.
const (
	DefaultMaxUpload         = 20 << 20
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = time.Minute
	DefaultWriteTimeout      = 3 * time.Minute
	DefaultIdleTimeout       = 2 * time.Minute
)

// Server serves the API, the page and the operations endpoints. Set the
// option fields before Handler or Serve.
type Server struct {
	// APIKeys, when set, are the Bearer tokens /v1/ accepts; empty means
	// the API is open (serve allows that only on loopback or with public).
	APIKeys []string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// for the client address (rate limits); others' is ignored.
	TrustedProxies []netip.Prefix
	// MaxUpload is the largest photo accepted, in bytes; zero means
	// DefaultMaxUpload.
	MaxUpload int64
	// Ready reports why the process is not ready (models, store,
	// platforms); nil or an empty list means ready.
	Ready func() []string
	// Metrics, when set, is served at /metrics.
	Metrics http.Handler
	// Refused is told each request refused before it reached the service
	// (bad input, "too_large", "unauthorized", ...), by its error code; nil
	// means nobody is told. (The service counts its own refusals, rate
	// limits and a full queue, and the jobs that fail later.)
	Refused func(reason string)
	// Timeouts of the http.Server Serve runs; zero means the defaults.
	// WriteTimeout must exceed the bot's job timeout, as a caption request
	// waits for its post.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// ShutdownTimeout bounds Serve's wait for requests in flight after its
	// context ends; zero means one minute.
	ShutdownTimeout time.Duration
	// Log receives request failures; nil means slog.Default().
	Log *slog.Logger

	svc Submitter
}

// New returns a Server whose API captions through svc.
func New(svc Submitter) *Server { return &Server{svc: svc} }

//go:embed static
var static embed.FS

func (s *Server) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Server) maxUpload() int64 {
	if s.MaxUpload > 0 {
		return s.MaxUpload
	}
	return DefaultMaxUpload
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// contentSecurityPolicy lets the page load only its own files and talk
// only to its own origin; photos are shown from blob: URLs.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// Handler returns every endpoint, with security headers on each response.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/v1/captions", s.api(only(http.MethodPost, s.captions)))
	mux.Handle("/v1/networks", s.api(only(http.MethodGet, networks)))
	mux.Handle("/v1/openapi.json", only(http.MethodGet, openAPI))
	mux.Handle("/v1/", s.api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "No such endpoint; see /v1/openapi.json.")
	})))
	mux.Handle("/healthz", only(http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	mux.Handle("/readyz", only(http.MethodGet, s.readyz))
	if s.Metrics != nil {
		mux.Handle("/metrics", only(http.MethodGet, s.Metrics.ServeHTTP))
	}
	sub, _ := fs.Sub(static, "static") // a constant, embedded folder: cannot fail
	mux.Handle("/", only(http.MethodGet, http.FileServerFS(sub).ServeHTTP))
	return securityHeaders(mux)
}

// only answers other methods than method (and HEAD, for GET) with 405.
func only(method string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", "Use "+method+" here.")
			return
		}
		h(w, r)
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		h.ServeHTTP(w, r)
	})
}

// api guards /v1/ with the API keys, when there are any.
func (s *Server) api(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if len(s.APIKeys) > 0 && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="captionbot"`)
			s.refuse(w, &apiError{status: http.StatusUnauthorized, code: "unauthorized",
				message: "This API needs a key: send Authorization: Bearer KEY."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return false
	}
	// Compare hashes, so the comparison's time says nothing of the length.
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, k := range s.APIKeys {
		want := sha256.Sum256([]byte(k))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var reasons []string
	if s.Ready != nil {
		reasons = s.Ready()
	}
	if len(reasons) > 0 {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reasons": reasons})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

// rateKey is what rate limits count against for a client address: the
// address itself, or for IPv6 its /64 (one subscriber's usual share, so a
// client cannot dodge its limit by changing addresses within it).
func rateKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil || !a.Is6() || a.IsLoopback() {
		return addr
	}
	p, _ := a.Prefix(64) // an IPv6 address always has a /64
	return p.String()
}

// clientAddr is the client's address: the peer, or, when the peer is a
// trusted proxy, the last X-Forwarded-For hop that is not.
func (s *Server) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing before it
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Serve serves Handler on ln until ctx ends, then waits for the requests
// in flight (within ShutdownTimeout).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: or(s.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       or(s.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      or(s.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       or(s.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log().Handler(), slog.LevelDebug),
	}
	return serve(ctx, hs, ln, or(s.ShutdownTimeout, time.Minute))
}

// ServeHandler serves h (e.g. /metrics alone) on ln until ctx ends, with
// the same timeouts as Serve's defaults.
func ServeHandler(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: DefaultReadHeaderTimeout, ReadTimeout: DefaultReadTimeout,
		WriteTimeout: time.Minute, IdleTimeout: DefaultIdleTimeout, MaxHeaderBytes: 64 << 10}
	return serve(ctx, hs, ln, 10*time.Second)
}

func serve(ctx context.Context, hs *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("web: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	return nil
}

// photoKey names a photo for the caption cache without keeping it: a
// Regenerate or another network re-sends the bytes, and the cache skips
// the models.
func photoKey(img []byte) string {
	h := sha256.Sum256(img)
	return hex.EncodeToString(h[:16])
}
