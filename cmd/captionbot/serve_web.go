package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/adapters/web"
)

// httpListeners are serve's bound [http] addresses; nil fields are off.
type httpListeners struct {
	api, metrics net.Listener
}

// listenHTTP binds [http] listen and metrics_listen before the models load,
// so a port in use fails the start at once, with what to do.
func listenHTTP(hc httpConfig) (*httpListeners, error) {
	l := &httpListeners{}
	for _, a := range []struct {
		key, addr string
		ln        *net.Listener
	}{{"listen", hc.Listen, &l.api}, {"metrics_listen", hc.MetricsListen, &l.metrics}} {
		if a.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", a.addr)
		if err != nil {
			l.Close()
			if errors.Is(err, syscall.EADDRINUSE) {
				return nil, fmt.Errorf("http.%s %s is in use (another captionbot?): set [http] %s to another port, or \"\" to turn it off", a.key, a.addr, a.key)
			}
			return nil, fmt.Errorf("http.%s: %w", a.key, err)
		}
		*a.ln = ln
	}
	return l, nil
}

// Close closes the listeners not yet served.
func (l *httpListeners) Close() {
	for _, ln := range []net.Listener{l.api, l.metrics} {
		if ln != nil {
			ln.Close()
		}
	}
}

// webReady is /readyz's check: the models loaded, the store open, each
// configured platform connected.
func webReady(models func() bool, store *bolt.Store, enabled []platformStarter, status *platformStatus) func() []string {
	return func() []string {
		var reasons []string
		if !models() {
			reasons = append(reasons, "models: not loaded")
		}
		if err := store.Err(); err != nil {
			reasons = append(reasons, "store: "+err.Error())
		}
		for _, p := range enabled {
			if !status.Connected(p.name) {
				reasons = append(reasons, p.name+": not connected")
			}
		}
		return reasons
	}
}

// serveHTTP starts the web adapter (and the metrics listener) in g; it
// prints the playground's address.
func serveHTTP(ctx context.Context, g *errgroup.Group, l *httpListeners, cfg *config, env platformEnv,
	ready func() []string, metrics http.Handler, refused func(string), stdout io.Writer) {
	hc := cfg.HTTP
	ops := http.NewServeMux()
	if l.metrics != nil && metrics != nil {
		// /metrics moves to its own address; the health checks are on both.
		opsSrv := web.New(env.Service)
		opsSrv.Ready = ready
		opsSrv.Metrics = metrics
		h := opsSrv.Handler()
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			ops.Handle(p, h)
		}
		metrics = nil
		ln := l.metrics
		g.Go(func() error { return web.ServeHandler(ctx, ln, ops) })
		env.Log.Info("metrics listening", "url", browserURL(ln.Addr())+"metrics")
	}
	if l.api == nil {
		return
	}
	s := web.New(env.Service)
	s.APIKeys = hc.APIKeys
	s.TrustedProxies = hc.trustedProxies()
	s.MaxUpload = int64(hc.MaxUploadMB) << 20
	s.Ready = ready
	s.Metrics = metrics
	s.Refused = refused
	s.ReadHeaderTimeout = hc.ReadHeaderTimeout.Duration
	s.ReadTimeout = hc.ReadTimeout.Duration
	s.WriteTimeout = hc.WriteTimeout.Duration
	s.IdleTimeout = hc.IdleTimeout.Duration
	s.ShutdownTimeout = cfg.Bot.ShutdownGrace.Duration + 10*time.Second
	s.Log = env.Log
	ln := l.api
	g.Go(func() error { return s.Serve(ctx, ln) })
	url := browserURL(ln.Addr())
	fmt.Fprintf(stdout, "captionbot: web playground at %s\n", url)
	env.Log.Info("http listening", "url", url, "api_keys", len(hc.APIKeys) > 0, "public", hc.Public)
}
