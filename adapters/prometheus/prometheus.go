// Package prometheus exports captionbot's metrics in the Prometheus format
// (github.com/prometheus/client_golang): photos by platform and outcome,
// latency per stage (queue wait, download, decode, the models, refine,
// deliver),
// the queue depth, refusals by reason, LLM calls and fallbacks, and cache
// hits. Labels carry only fixed words (platform names, outcomes,
// reasons): never a token, a key, an ID or chat text.
package prometheus

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/captionbot/captionbot/bot"
)

// Platforms are the platform label's values; others count as "other".
var Platforms = []string{"telegram", "discord", "web"}

// Metrics holds captionbot's collectors in a registry of its own.
type Metrics struct {
	reg       *prom.Registry
	photos    *prom.CounterVec
	stages    *prom.HistogramVec
	refusals  *prom.CounterVec
	fallbacks *prom.CounterVec
	llmCalls  *prom.CounterVec
	cacheHits prom.Counter
	apiErrors *prom.CounterVec
}

// New registers the collectors; queueDepth (e.g. bot.Service.Queued) is
// read at each scrape, nil means no queue gauge.
func New(queueDepth func() int) *Metrics {
	m := &Metrics{
		reg: prom.NewRegistry(),
		photos: prom.NewCounterVec(prom.CounterOpts{Name: "captionbot_photos_total",
			Help: "Photos handled, by platform and outcome (sent, refused, busy, failed, undelivered)."},
			[]string{"platform", "outcome"}),
		stages: prom.NewHistogramVec(prom.HistogramOpts{Name: "captionbot_stage_seconds",
			Help:    "Latency per stage: total (accepted to post), queue_wait, download, describe, decode, encoder, detector, decoder, refine, deliver.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}},
			[]string{"stage"}),
		refusals: prom.NewCounterVec(prom.CounterOpts{Name: "captionbot_refusals_total",
			Help: "Photos refused, by platform and reason (rate_limited, busy, not_image, too_large, ...)."},
			[]string{"platform", "reason"}),
		fallbacks: prom.NewCounterVec(prom.CounterOpts{Name: "captionbot_llm_fallbacks_total",
			Help: "Posts the offline refiner wrote instead of the LLM, by reason (llm_error, queue_wait)."},
			[]string{"reason"}),
		llmCalls: prom.NewCounterVec(prom.CounterOpts{Name: "captionbot_llm_calls_total",
			Help: "Posts asked of the LLM, by result (ok, fallback: the offline refiner wrote it)."},
			[]string{"result"}),
		cacheHits: prom.NewCounter(prom.CounterOpts{Name: "captionbot_cache_hits_total",
			Help: "Posts written from a cached description (a button press: no download, no models)."}),
		apiErrors: prom.NewCounterVec(prom.CounterOpts{Name: "captionbot_platform_api_errors_total",
			Help: "Chat platform API calls that failed, by platform and what followed (retried, failed)."},
			[]string{"platform", "outcome"}),
	}
	m.reg.MustRegister(m.photos, m.stages, m.refusals, m.fallbacks, m.llmCalls, m.cacheHits, m.apiErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queueDepth != nil {
		m.reg.MustRegister(prom.NewGaugeFunc(prom.GaugeOpts{Name: "captionbot_queue_depth",
			Help: "Photos waiting for a captioning worker."}, func() float64 { return float64(queueDepth()) }))
	}
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func platform(p string) string {
	if slices.Contains(Platforms, p) {
		return p
	}
	return "other"
}

// Refused counts a photo refused before it reached a worker.
func (m *Metrics) Refused(platformName, reason string) {
	m.refusals.WithLabelValues(platform(platformName), reason).Inc()
}

func (m *Metrics) observe(stage string, d time.Duration) {
	if d > 0 {
		m.stages.WithLabelValues(stage).Observe(d.Seconds())
	}
}

// Describer times d's stages from each Description's timings.
func (m *Metrics) Describer(d bot.Describer) bot.Describer { return describer{d, m} }

type describer struct {
	bot.Describer
	m *Metrics
}

func (d describer) Describe(ctx context.Context, img []byte) (bot.Description, error) {
	start := time.Now()
	desc, err := d.Describer.Describe(ctx, img)
	if err != nil {
		return desc, err
	}
	d.m.observe("describe", time.Since(start))
	d.m.observe("decode", desc.DecodeTime)
	d.m.observe("encoder", desc.EncoderTime)
	d.m.observe("detector", desc.DetectorTime)
	d.m.observe("decoder", desc.DecoderTime)
	return desc, nil
}

// Refiner times r; with llm, a post the offline refiner wrote (r's own
// fallback) counts as an LLM fallback.
func (m *Metrics) Refiner(r bot.Refiner, llm bool) bot.Refiner {
	return refiner{r: r, m: m, llm: llm}
}

// Fallback times the service's Fallback refiner and counts each post it
// writes as an LLM fallback ("queue_wait": no LLM slot in time).
func (m *Metrics) Fallback(r bot.Refiner) bot.Refiner {
	return refiner{r: r, m: m, fallback: true}
}

type refiner struct {
	r             bot.Refiner
	m             *Metrics
	llm, fallback bool
}

func (r refiner) Refine(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	start := time.Now()
	p, err := r.r.Refine(ctx, req)
	r.m.observe("refine", time.Since(start))
	switch {
	case err != nil:
	case r.fallback:
		r.m.fallbacks.WithLabelValues("queue_wait").Inc()
	case r.llm && p.WrittenBy == "offline":
		r.m.fallbacks.WithLabelValues("llm_error").Inc()
		r.m.llmCalls.WithLabelValues("fallback").Inc()
	case r.llm:
		r.m.llmCalls.WithLabelValues("ok").Inc()
	}
	return p, err
}

// stageNames are the service's outcome-line timing keys and their stage.
var stageNames = map[string]string{"queue_wait": "queue_wait", "fetch": "download", "deliver": "deliver"}

// apiErrorLines are the chat adapters' log messages for a failed API call
// and what followed it.
var apiErrorLines = map[string]string{
	"telegram call failed, retrying": "retried",
	"getUpdates failed":              "retried",
	"reply failed":                   "failed",
	"command reply failed":           "failed",
	"answerCallbackQuery failed":     "failed",
	"reply to message":               "failed",
	"answer interaction":             "failed",
}

// platform is a record's "platform" attribute (the adapters add it).
func (l *logHandler) platform(r slog.Record) string {
	p := ""
	find := func(a slog.Attr) bool {
		if a.Key == "platform" {
			p = a.Value.String()
		}
		return true
	}
	for _, a := range l.attrs {
		find(a)
	}
	r.Attrs(find)
	return p
}

// outcomes are the service's job log messages and what they count as.
var outcomes = map[string]string{
	"caption sent":        "sent",
	"photo refused":       "refused",
	"job failed":          "failed",
	"reply not delivered": "undelivered",
	"photo waited too long, asked to try again": "busy",
}

// LogHandler wraps the service's log handler h: each job's outcome line
// (bot.Service logs one per photo, with its platform and duration) counts
// the photo, its total latency and, for refusals, the reason. Records pass
// on to h unchanged.
func (m *Metrics) LogHandler(h slog.Handler) slog.Handler { return &logHandler{h: h, m: m} }

type logHandler struct {
	h     slog.Handler
	m     *Metrics
	attrs []slog.Attr
}

func (l *logHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return true // outcomes count whatever the log level
}

func (l *logHandler) Handle(ctx context.Context, r slog.Record) error {
	if outcome, ok := outcomes[r.Message]; ok {
		l.count(outcome, r)
	}
	if outcome, ok := apiErrorLines[r.Message]; ok {
		l.m.apiErrors.WithLabelValues(platform(l.platform(r)), outcome).Inc()
	}
	if !l.h.Enabled(ctx, r.Level) {
		return nil
	}
	return l.h.Handle(ctx, r)
}

func (l *logHandler) count(outcome string, r slog.Record) {
	var plat string
	var dur time.Duration
	var reason error
	var cached bool
	stages := map[string]time.Duration{}
	visit := func(a slog.Attr) bool {
		switch a.Key {
		case "platform":
			plat = a.Value.String()
		case "dur":
			if a.Value.Kind() == slog.KindDuration {
				dur = a.Value.Duration()
			}
		case "queue_wait", "fetch", "deliver":
			if a.Value.Kind() == slog.KindDuration {
				stages[stageNames[a.Key]] = a.Value.Duration()
			}
		case "cached":
			cached = a.Value.Kind() == slog.KindBool && a.Value.Bool()
		case "reason":
			reason, _ = a.Value.Any().(error)
		}
		return true
	}
	for _, a := range l.attrs {
		visit(a)
	}
	r.Attrs(visit)
	l.m.photos.WithLabelValues(platform(plat), outcome).Inc()
	if outcome == "sent" {
		l.m.observe("total", dur)
		for stage, d := range stages {
			l.m.observe(stage, d)
		}
		if cached {
			l.m.cacheHits.Inc()
		}
	}
	if outcome == "refused" || outcome == "busy" {
		l.m.Refused(plat, ReasonCode(reason))
	}
}

func (l *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{h: l.h.WithAttrs(attrs), m: l.m, attrs: append(slices.Clip(l.attrs), attrs...)}
}

func (l *logHandler) WithGroup(name string) slog.Handler {
	// Attributes in a group are not the service's fixed keys.
	return &logHandler{h: l.h.WithGroup(name), m: l.m, attrs: l.attrs}
}

// ReasonCode names a refusal's error with a fixed word for a label.
func ReasonCode(err error) string {
	for _, c := range []struct {
		err  error
		code string
	}{
		{bot.ErrRateLimited, "rate_limited"}, {bot.ErrBusy, "busy"}, {bot.ErrStopped, "stopped"},
		{bot.ErrEmptyImage, "empty_image"}, {bot.ErrNotImage, "not_image"}, {bot.ErrUnsupportedFile, "not_image"},
		{bot.ErrCorruptImage, "corrupt_image"}, {bot.ErrImageTooLarge, "image_too_large"},
		{bot.ErrImageTooSmall, "image_too_small"}, {bot.ErrFileTooLarge, "too_large"},
		{bot.ErrPhotoExpired, "photo_expired"},
	} {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "other"
}
