package discord

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/bot"
)

// refusal is the friendly reason an attachment will not be captioned, or ""
// when it will.
func (b *Bot) refusal(a *discordgo.MessageAttachment) string {
	if err := bot.CheckFile(a.Filename, a.ContentType, int64(a.Size), b.cfg.MaxAttachmentBytes); err != nil {
		return bot.UserMessage(err)
	}
	if a.URL == "" {
		return bot.UserMessage(bot.ErrPhotoExpired)
	}
	return ""
}

// pickImage returns the first attachment that can be captioned, or nil and
// the refusal of the first one.
func (b *Bot) pickImage(atts []*discordgo.MessageAttachment) (*discordgo.MessageAttachment, string) {
	first := ""
	for _, a := range atts {
		r := b.refusal(a)
		if r == "" {
			return a, ""
		}
		if first == "" {
			first = r
		}
	}
	return nil, first
}

// fetchPhoto returns a Job.Fetch that downloads the attachment remembered
// under id. Attachment URLs point at Discord's CDN (or wherever api_base's
// server put them); no token is sent with them.
func (b *Bot) fetchPhoto(id string) func(ctx context.Context) ([]byte, error) {
	return func(ctx context.Context) ([]byte, error) {
		url, ok := b.photos.get(id)
		if !ok {
			return nil, bot.ErrPhotoExpired
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, fmt.Errorf("download attachment: %w", err)
		}
		resp, err := b.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("download attachment: %w", err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden:
			// Discord's signed attachment URLs expire.
			return nil, fmt.Errorf("download attachment: %s: %w", resp.Status, bot.ErrPhotoExpired)
		case resp.StatusCode != http.StatusOK:
			return nil, fmt.Errorf("download attachment: %s", resp.Status)
		}
		data, err := bot.ReadLimited(resp.Body, b.cfg.MaxAttachmentBytes)
		if err != nil {
			return nil, fmt.Errorf("download attachment: %w", err)
		}
		return data, nil
	}
}

// photoStore remembers attachment URLs by attachment ID for a while, so the
// buttons under a post can fetch the photo again when the service's
// raw-caption cache no longer has it. A map with expiry and a size bound is
// all it needs.
type photoStore struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]storedPhoto
}

type storedPhoto struct {
	url     string
	expires time.Time
}

func newPhotoStore(ttl time.Duration, max int) *photoStore {
	return &photoStore{ttl: orDuration(ttl, time.Hour), max: max, now: time.Now, m: map[string]storedPhoto{}}
}

func (p *photoStore) put(id, url string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if len(p.m) >= p.max {
		for k, v := range p.m {
			if !now.Before(v.expires) {
				delete(p.m, k)
			}
		}
		for k := range p.m { // still full: drop arbitrary entries
			if len(p.m) < p.max {
				break
			}
			delete(p.m, k)
		}
	}
	p.m[id] = storedPhoto{url: url, expires: now.Add(p.ttl)}
}

func (p *photoStore) get(id string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[id]
	if !ok || !p.now().Before(v.expires) {
		delete(p.m, id)
		return "", false
	}
	return v.url, true
}
