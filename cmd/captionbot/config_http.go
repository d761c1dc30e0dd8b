package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"
)

// httpConfig is the [http] section: the web playground, the JSON API and
// the operations endpoints.
type httpConfig struct {
	// Listen is the address serve answers HTTP on; empty turns it off.
	// Two captionbot processes on one machine need two ports.
	Listen string `toml:"listen"`
	// MetricsListen, when set, serves /metrics (and /healthz, /readyz) on
	// an address of its own instead of Listen.
	MetricsListen string `toml:"metrics_listen"`
	// APIKeys are the Bearer tokens the API accepts; empty: no key needed.
	APIKeys []string `toml:"api_keys"`
	// Public serves the API without keys on a non-loopback Listen.
	Public bool `toml:"public"`
	// TrustedProxies are the addresses or CIDR ranges whose
	// X-Forwarded-For names the client (for rate limits).
	TrustedProxies []string `toml:"trusted_proxies"`
	// MaxUploadMB is the largest photo accepted, in MB.
	MaxUploadMB int `toml:"max_upload_mb"`
	// Server timeouts: reading the request's headers, the whole request,
	// writing the answer (it waits for the caption, so it must exceed
	// bot.job_timeout), and an idle keep-alive connection.
	ReadHeaderTimeout duration `toml:"read_header_timeout"`
	ReadTimeout       duration `toml:"read_timeout"`
	WriteTimeout      duration `toml:"write_timeout"`
	IdleTimeout       duration `toml:"idle_timeout"`
}

// trustedProxies are TrustedProxies parsed (the config check made sure
// they parse).
func (hc httpConfig) trustedProxies() []netip.Prefix {
	var out []netip.Prefix
	for _, p := range hc.TrustedProxies {
		if pre, err := parsePrefix(p); err == nil {
			out = append(out, pre)
		}
	}
	return out
}

// envHTTPListen overrides [http] listen (e.g. "0.0.0.0:8080" in a container).
const envHTTPListen = "CAPTIONBOT_HTTP_LISTEN"

// defaultHTTPListen is [http] listen's default.
const defaultHTTPListen = "127.0.0.1:8080"

func (hc *httpConfig) defaults() {
	*hc = httpConfig{Listen: defaultHTTPListen, MaxUploadMB: 20,
		ReadHeaderTimeout: duration{10 * time.Second}, ReadTimeout: duration{time.Minute},
		WriteTimeout: duration{3 * time.Minute}, IdleTimeout: duration{2 * time.Minute}}
}

// check checks [http]; jobTimeout is [bot] job_timeout, which a caption
// request waits for.
func (hc *httpConfig) check(jobTimeout time.Duration) error {
	{
		if v := os.Getenv(envHTTPListen); v != "" {
			hc.Listen = v
		}
		var errs []error
		if hc.MaxUploadMB < 1 || hc.MaxUploadMB > 1024 {
			errs = append(errs, fmt.Errorf("http.max_upload_mb is %d; it must be between 1 and 1024", hc.MaxUploadMB))
		}
		for _, v := range []struct {
			key string
			d   duration
		}{{"read_header_timeout", hc.ReadHeaderTimeout}, {"read_timeout", hc.ReadTimeout},
			{"write_timeout", hc.WriteTimeout}, {"idle_timeout", hc.IdleTimeout}} {
			if v.d.Duration <= 0 {
				errs = append(errs, fmt.Errorf("http.%s is %s; it must be positive", v.key, v.d))
			}
		}
		if hc.WriteTimeout.Duration <= jobTimeout {
			errs = append(errs, fmt.Errorf("http.write_timeout (%s) must be longer than bot.job_timeout (%s): a caption request waits for its post",
				hc.WriteTimeout, duration{jobTimeout}))
		}
		for _, p := range hc.TrustedProxies {
			if _, err := parsePrefix(p); err != nil {
				errs = append(errs, fmt.Errorf("http.trusted_proxies: %q is not an address or a CIDR range", p))
			}
		}
		for _, k := range hc.APIKeys {
			if len(k) < 16 || strings.TrimSpace(k) != k {
				errs = append(errs, errors.New("http.api_keys: each key needs at least 16 characters and no spaces around it"))
				break
			}
		}
		for _, a := range []struct{ key, addr string }{{"listen", hc.Listen}, {"metrics_listen", hc.MetricsListen}} {
			if a.addr == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(a.addr); err != nil {
				errs = append(errs, fmt.Errorf("http.%s %q: want HOST:PORT, e.g. 127.0.0.1:8080", a.key, a.addr))
			}
		}
		if hc.Listen != "" && !loopback(hc.Listen) && len(hc.APIKeys) == 0 && !hc.Public {
			errs = append(errs, fmt.Errorf("http.listen %q is reachable from other machines, and the API has no keys: "+
				"set [http] api_keys, or public = true to let anyone caption photos (or listen on 127.0.0.1)", hc.Listen))
		}
		return errors.Join(errs...)
	}
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}

// loopback reports whether addr (HOST:PORT) answers only this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// browserURL is the address to open for a listener at addr.
func browserURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String() + "/"
	}
	if a, err := netip.ParseAddr(host); err == nil && a.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
