// Package bottest provides fakes of package bot's interfaces for other
// packages' tests: function fields to script behaviour, defaults that work
// without scripting, and call counters.
package bottest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/captionbot/captionbot/bot"
)

// Describer is a fake bot.Describer. With DescribeFunc nil it returns
// DefaultDescription for any non-empty input and an error wrapping
// bot.ErrEmptyImage for empty input.
type Describer struct {
	DescribeFunc func(ctx context.Context, img []byte) (bot.Description, error)
	calls        atomic.Int64
}

var _ bot.Describer = (*Describer)(nil)

// DefaultDescription is what Describer returns when not scripted.
var DefaultDescription = bot.Description{
	Caption:    "a dog runs through the grass",
	Confidence: -0.5,
	Labels:     []bot.Label{{Label: "golden retriever", Score: 0.9}},
}

// Describe calls DescribeFunc or returns DefaultDescription.
func (d *Describer) Describe(ctx context.Context, img []byte) (bot.Description, error) {
	d.calls.Add(1)
	if d.DescribeFunc != nil {
		return d.DescribeFunc(ctx, img)
	}
	if len(img) == 0 {
		return bot.Description{}, fmt.Errorf("bottest: %w", bot.ErrEmptyImage)
	}
	return DefaultDescription, nil
}

// Calls returns how many times Describe ran.
func (d *Describer) Calls() int { return int(d.calls.Load()) }

// Refiner is a fake bot.Refiner. With RefineFunc nil it returns Render(req).
type Refiner struct {
	RefineFunc func(ctx context.Context, req bot.RefineRequest) (bot.Post, error)
	mu         sync.Mutex
	requests   []bot.RefineRequest
}

var _ bot.Refiner = (*Refiner)(nil)

// Refine records req and calls RefineFunc or Render.
func (r *Refiner) Refine(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	r.mu.Lock()
	r.requests = append(r.requests, req)
	r.mu.Unlock()
	if r.RefineFunc != nil {
		return r.RefineFunc(ctx, req)
	}
	return Render(req), nil
}

// Requests returns a copy of every request Refine received.
func (r *Refiner) Requests() []bot.RefineRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bot.RefineRequest(nil), r.requests...)
}

// Render is a deterministic post that shows its inputs, so tests can assert
// which settings were used: "[network/tone/lang/vN] Caption. #tag".
func Render(req bot.RefineRequest) bot.Post {
	caption := fmt.Sprintf("[%s/%s/%s/v%d] %s.", req.Network, req.Tone, req.Language, req.Variant, req.Description.Caption)
	var tags []string
	for _, l := range req.Description.Labels {
		tags = append(tags, "#"+strings.ReplaceAll(l.Label, " ", ""))
	}
	text := caption
	if len(tags) > 0 {
		text += "\n\n" + strings.Join(tags, " ")
	}
	return bot.Post{Text: text, Body: caption, Hashtags: tags, Network: req.Network, WrittenBy: "bottest"}
}

// Preferences is an in-memory bot.Preferences. GetErr and SetErr, when set,
// are returned by every Get and Set.
type Preferences struct {
	GetErr error
	SetErr error

	mu sync.Mutex
	m  map[bot.PrefKey]bot.Settings
}

var _ bot.Preferences = (*Preferences)(nil)

// Get returns the stored settings or the zero Settings.
func (p *Preferences) Get(_ context.Context, k bot.PrefKey) (bot.Settings, error) {
	if p.GetErr != nil {
		return bot.Settings{}, p.GetErr
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[k], nil
}

// Set stores s under k.
func (p *Preferences) Set(_ context.Context, k bot.PrefKey, s bot.Settings) error {
	if p.SetErr != nil {
		return p.SetErr
	}
	if err := k.Validate(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[bot.PrefKey]bot.Settings{}
	}
	p.m[k] = s
	return nil
}

// Each calls fn for every record.
func (p *Preferences) Each(_ context.Context, fn func(bot.PrefKey, bot.Settings) error) error {
	p.mu.Lock()
	recs := make(map[bot.PrefKey]bot.Settings, len(p.m))
	for k, v := range p.m {
		recs[k] = v
	}
	p.mu.Unlock()
	for k, v := range recs {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}
