package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/captionbot/captionbot/adapters/web"
	"github.com/captionbot/captionbot/bot"
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
func webReady(models func() bool, store interface{ Err() error }, enabled []platformStarter, status *platformStatus) func() []string {
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

// serviceGate is the web adapter's bot.Service: serve starts HTTP before
// the models load (so /healthz answers and /readyz says why it is not
// ready), and photos sent meanwhile are answered 503.
type serviceGate struct {
	svc atomic.Pointer[bot.Service]
}

func (g *serviceGate) set(s *bot.Service) { g.svc.Store(s) }

// started reports whether the service runs, i.e. the models are loaded.
func (g *serviceGate) started() bool { return g.svc.Load() != nil }

// Submit passes the job on, or refuses it with bot.ErrStopped while the
// service is not started yet.
func (g *serviceGate) Submit(j bot.Job) error {
	if s := g.svc.Load(); s != nil {
		return s.Submit(j)
	}
	return bot.ErrStopped
}

// Queued is the service's queue depth, zero before it starts.
func (g *serviceGate) Queued() int {
	if s := g.svc.Load(); s != nil {
		return s.Queued()
	}
	return 0
}

// httpRun is serve's running HTTP servers.
type httpRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// stop ends the servers (after the requests in flight) and returns their
// error; it may be called more than once.
func (h *httpRun) stop() error {
	h.cancel()
	<-h.done
	return h.err
}

// wait returns when a server fails or, once ctx ends, after stop.
func (h *httpRun) wait(ctx context.Context) error {
	select {
	case <-h.done:
		return h.err
	case <-ctx.Done():
		return h.stop()
	}
}

// startHTTP serves the web adapter on [http] listen (and /metrics on
// metrics_listen) until ctx ends or stop; it prints the playground's
// address.
func startHTTP(ctx context.Context, l *httpListeners, cfg *config, log *slog.Logger, svc web.Submitter,
	ready func() []string, metrics http.Handler, refused func(string), stdout io.Writer) *httpRun {
	ctx, cancel := context.WithCancel(ctx)
	h := &httpRun{cancel: cancel, done: make(chan struct{})}
	var g errgroup.Group
	hc := cfg.HTTP
	if l.metrics != nil {
		// /metrics moves to its own address; the health checks are on both.
		opsSrv := web.New(svc)
		opsSrv.Ready = ready
		opsSrv.Metrics = metrics
		ops, all := http.NewServeMux(), opsSrv.Handler()
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			ops.Handle(p, all)
		}
		metrics = nil
		ln := l.metrics
		g.Go(func() error { return web.ServeHandler(ctx, ln, ops) })
		log.Info("metrics listening", "url", browserURL(ln.Addr())+"metrics")
	}
	if l.api != nil {
		s := web.New(svc)
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
		s.Log = log
		ln := l.api
		g.Go(func() error { return s.Serve(ctx, ln) })
		url := browserURL(ln.Addr())
		fmt.Fprintf(stdout, "captionbot: web playground at %s\n", url)
		log.Info("http listening", "url", url, "api_keys", len(hc.APIKeys) > 0, "public", hc.Public)
	}
	go func() {
		h.err = g.Wait()
		close(h.done)
	}()
	return h
}
