package telegram

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// WebhookConfig is webhook mode's setup.
type WebhookConfig struct {
	// URL is the public HTTPS URL Telegram posts updates to; its path is
	// the path served.
	URL string
	// Listen is the local address to serve on, e.g. ":8443" (TLS is
	// terminated by a reverse proxy).
	Listen string
	// SecretToken is sent by Telegram in X-Telegram-Bot-Api-Secret-Token
	// and checked on every request (1-256 of A-Z a-z 0-9 _ -).
	SecretToken string
}

// maxUpdateBody bounds a webhook request body.
const maxUpdateBody = 1 << 20

// WebhookHandler serves Telegram's webhook POSTs: it checks the secret
// token, journals the update, dispatches it and answers 200 at once (the
// reply is sent by the worker). It is for Run-less use (tests, a custom
// server); RunWebhook wires it up.
func (b *Bot) WebhookHandler(secret string) http.Handler {
	b.defaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, maxUpdateBody+1))
		if err != nil || len(raw) > maxUpdateBody {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var u tgbotapi.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		id := int64(u.UpdateID)
		fresh := true
		if b.Journal != nil {
			fresh, err = b.Journal.Claim(r.Context(), id, raw)
			if err != nil {
				// Not journaled: let Telegram redeliver it later.
				b.log().Error("journal accept failed", "err", err)
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
		} else {
			fresh = b.seen.add(id)
		}
		if !fresh {
			// Telegram redelivers an update whose answer it did not get:
			// taken in (or answered) already, so only say so.
			b.log().Info("redelivered update ignored", "update", id)
			w.WriteHeader(http.StatusOK)
			return
		}
		b.dispatch(id, u)
		w.WriteHeader(http.StatusOK)
	})
}

// RunWebhook registers the webhook (setWebhook with the secret token),
// serves it until ctx ends, then stops taking updates and waits for the
// in-flight ones. The webhook stays registered across restarts; Telegram
// queues updates while the bot is down.
func (b *Bot) RunWebhook(ctx context.Context, cfg WebhookConfig) error {
	b.defaults()
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return fmt.Errorf("telegram: webhook url %q is not an absolute URL", cfg.URL)
	}
	if cfg.SecretToken == "" {
		return errors.New("telegram: webhook mode needs a secret_token")
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("telegram: webhook listen: %w", err)
	}
	b.setCommands(ctx)
	if _, err := b.replayJournal(ctx); err != nil {
		ln.Close()
		return err
	}
	// Without the webhook nothing arrives: keep trying while Telegram is
	// unreachable (until ctx ends) rather than give up.
	err = b.request(withPatience(ctx, time.Now().Add(100*365*24*time.Hour)), "setWebhook", tgbotapi.Params{
		"url":             cfg.URL,
		"secret_token":    cfg.SecretToken,
		"allowed_updates": `["message","callback_query"]`,
	}, nil)
	if err != nil {
		ln.Close()
		if ctx.Err() != nil { // shut down while starting
			return b.drain(0)
		}
		return fmt.Errorf("telegram: %w", err)
	}
	path := u.Path
	if path == "" {
		path = "/"
	}
	mux := http.NewServeMux()
	mux.Handle(path, b.WebhookHandler(cfg.SecretToken))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if r, ok := b.Journal.(Reclaimer); ok {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go b.reclaim(rctx, r)
	}
	b.log().Info("serving webhook", "bot", b.Username(), "listen", ln.Addr().String(), "path", path)

	select {
	case err = <-served:
		err = fmt.Errorf("telegram: webhook server: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_ = srv.Shutdown(sctx)
		cancel()
		err = nil
	}
	if derr := b.drain(0); derr != nil && err == nil {
		err = derr
	}
	return err
}

// Reclaimer is a Journal shared by several replicas (adapters/postgres):
// Reclaim takes over the pending updates of replicas that stopped renewing
// their lease (they died), to be handled here. Pending, at start, returns
// only this replica's share.
type Reclaimer interface {
	Reclaim(ctx context.Context) (map[int64][]byte, error)
	// ReclaimInterval is how often Reclaim is called.
	ReclaimInterval() time.Duration
}

// reclaim dispatches the updates of dead replicas while the webhook
// serves, until ctx ends.
func (b *Bot) reclaim(ctx context.Context, r Reclaimer) {
	t := time.NewTicker(r.ReclaimInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		got, err := r.Reclaim(ctx)
		if err != nil {
			if ctx.Err() == nil {
				b.log().Error("journal reclaim failed", "err", err)
			}
			continue
		}
		ids := make([]int64, 0, len(got))
		for id := range got {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			var u tgbotapi.Update
			if err := json.Unmarshal(got[id], &u); err != nil {
				b.log().Error("undecodable journaled update dropped", "update", id, "err", err)
				_ = b.Journal.Done(ctx, id)
				continue
			}
			b.log().Info("taking over another replica's update", "update", id)
			b.redispatch(id, u, 0)
		}
	}
}

// recentIDs remembers the last maxRecentIDs update IDs taken in, for
// webhook mode without a journal (a journal remembers them durably).
type recentIDs struct {
	mu   sync.Mutex
	set  map[int64]struct{}
	ring []int64
	next int
}

const maxRecentIDs = 10000

// add records id and reports whether it is new.
func (r *recentIDs) add(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[id]; ok {
		return false
	}
	if r.set == nil {
		r.set = map[int64]struct{}{}
		r.ring = make([]int64, 0, maxRecentIDs)
	}
	if len(r.ring) < maxRecentIDs {
		r.ring = append(r.ring, id)
	} else {
		delete(r.set, r.ring[r.next])
		r.ring[r.next] = id
		r.next = (r.next + 1) % maxRecentIDs
	}
	r.set[id] = struct{}{}
	return true
}
