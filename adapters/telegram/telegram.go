// Package telegram is captionbot's Telegram adapter, built on
// go-telegram-bot-api/v5. It turns updates (photos, image files, commands,
// button presses) into bot.Service jobs and commands, and answers with posts,
// inline keyboards and friendly errors.
//
// Delivery rules: the long-polling loop never dies (429 waits retry_after,
// 5xx and network errors back off); a photo's calls and every reply are
// retried until PhotoDeadline, then the update is tried again later
// (OutageRetry) and, failing that, waits in the journal for the next start;
// an update is journaled (when a Journal is set) before Telegram is told it
// was received and removed only once its reply was sent or failed for good;
// a webhook update delivered again is ignored (Journal.Claim); a new message
// whose request went out without an answer is not sent again
// (ErrUnknownOutcome); on shutdown, polling stops, in-flight jobs finish,
// and the offset is confirmed to Telegram, so after a restart no update is
// processed twice or lost.
//
// Albums: each photo of an album (media_group_id) is its own message and gets
// its own reply, with its own buttons. In groups, a mention or /caption on
// one photo of an album (Telegram puts the caption on one of them) asks for
// the whole album: see album.go.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/captionbot/captionbot/bot"
)

// Platform is the name this adapter uses in jobs and preference keys.
const Platform = "telegram"

// Default endpoints; %s is the token, then the method or file path.
const (
	DefaultAPIEndpoint  = tgbotapi.APIEndpoint
	DefaultFileEndpoint = "https://api.telegram.org/file/bot%s/%s"
)

// MaxDownload is Telegram's getFile limit for bots on the public server.
const MaxDownload = 20 << 20

// ErrUnauthorized: Telegram refused the bot token (getMe answered 401 or
// 404). Retrying cannot help.
var ErrUnauthorized = errors.New("telegram refused the bot token: copy it again from @BotFather into [telegram] token or $CAPTIONBOT_TELEGRAM_TOKEN")

// Journal keeps accepted updates until they are handled, and the next
// offset to poll from (adapters/bolt's and adapters/postgres's Journal
// implement it).
type Journal interface {
	Accept(ctx context.Context, updates map[int64][]byte, nextOffset int64) error
	// Claim accepts one update unless it is pending or was handled
	// recently; fresh is false for a redelivered update (webhook mode).
	Claim(ctx context.Context, id int64, raw []byte) (fresh bool, err error)
	Done(ctx context.Context, id int64) error
	Pending(ctx context.Context) (map[int64][]byte, error)
	Offset(ctx context.Context) (int64, error)
}

// Config is what New needs to reach Telegram.
type Config struct {
	Token string
	// APIEndpoint and FileEndpoint are format strings taking the token and
	// the method / file path; empty means Telegram's public servers.
	APIEndpoint  string
	FileEndpoint string
	// HTTPClient makes every request; nil means a new http.Client. Its
	// Timeout, if any, must exceed PollTimeout.
	HTTPClient *http.Client
}

// Bot is a running Telegram adapter. Set the option fields before Run.
type Bot struct {
	// Log receives adapter events; nil means slog.Default(). Tokens never
	// appear in it.
	Log *slog.Logger
	// Journal, when set, makes accepted updates survive a crash.
	Journal Journal
	// PollTimeout is getUpdates' long-poll timeout; zero means 30 s.
	PollTimeout time.Duration
	// TypingInterval is how often "typing" is re-sent while a photo is
	// worked on; zero means 4 s (Telegram shows it for 5 s).
	TypingInterval time.Duration
	// AdminCacheTTL is how long a group's administrator list is cached;
	// zero means 5 minutes.
	AdminCacheTTL time.Duration
	// MaxFileSize is the largest file downloaded; zero means MaxDownload
	// (raise it only with a local Bot API server).
	MaxFileSize int64
	// Concurrency bounds the updates handled at once (photo jobs are then
	// bounded by the service's queue); zero means 32.
	Concurrency int
	// MaxRetries, RetryBase and RetryMax shape retries of failed API calls
	// (zero: 5, 500 ms, 30 s). A 429 waits its retry_after instead.
	MaxRetries int
	RetryBase  time.Duration
	RetryMax   time.Duration
	// PhotoDeadline is how long a photo request rides out a Bot API outage:
	// getFile, the download and the reply are retried (with backoff) until
	// it passes; then the update stays in the journal and is tried again
	// (see OutageRetry).
	// Zero means 90 s. The service's JobTimeout and DeliverTimeout also
	// bound it.
	PhotoDeadline time.Duration
	// OutageRetry is how long an update that outlasted PhotoDeadline waits
	// before it is tried again; zero means one minute. OutageRounds is how
	// many tries it gets in all before it waits in the journal for the next
	// start; zero means 3.
	OutageRetry  time.Duration
	OutageRounds int
	// AlbumWait is how long an unaddressed photo of a group album waits for
	// a sibling photo that mentions the bot (see album.go); zero means 3 s.
	AlbumWait time.Duration
	// ShutdownTimeout bounds the wait for in-flight updates after Run's
	// context ends; zero means 2 minutes (the service's grace should be
	// shorter).
	ShutdownTimeout time.Duration

	svc          Service
	api          *tgbotapi.BotAPI
	httpClient   *http.Client
	fileEndpoint string

	setup    sync.Once // applies defaults once options are set
	sem      chan struct{}
	inflight sync.WaitGroup
	tracked  atomic.Int64 // updates in flight, for tests (inflight has no count)
	admins   adminCache
	albums   albums
	typers   bot.Typing[int64]
	slowDown bot.Notices
	// migrations: groups that became supergroups (migrate.go).
	migrations migrations
	// seen: webhook update IDs taken in, when there is no Journal.
	seen recentIDs
	// stopping is set by drain: no update is dispatched again after it.
	stopMu   sync.Mutex
	stopping bool
}

// Service is what the adapter needs of the core; *bot.Service is one.
type Service interface {
	// Submit queues a photo job; its error is for the user
	// (bot.UserMessage).
	Submit(job bot.Job) error
	// HandleCommand answers a command.
	HandleCommand(ctx context.Context, req bot.CommandRequest) bot.Reply
	// MoveChatSettings follows a group that became a supergroup.
	MoveChatSettings(ctx context.Context, platform, fromID, toID string) error
}

var _ Service = (*bot.Service)(nil)

// New connects to Telegram (getMe) and returns a Bot that serves svc.
func New(ctx context.Context, cfg Config, svc Service) (*Bot, error) {
	if cfg.Token == "" {
		return nil, errors.New("telegram: no token")
	}
	if cfg.APIEndpoint == "" {
		cfg.APIEndpoint = DefaultAPIEndpoint
	}
	if cfg.FileEndpoint == "" {
		cfg.FileEndpoint = DefaultFileEndpoint
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	api, err := tgbotapi.NewBotAPIWithClient(cfg.Token, cfg.APIEndpoint, ctxClient{ctx: ctx, c: hc})
	if c := apiCode(err); c == http.StatusUnauthorized || c == http.StatusNotFound {
		return nil, fmt.Errorf("telegram: getMe: %w (%w)", ErrUnauthorized, bot.Redact(err, cfg.Token))
	}
	if err != nil {
		return nil, fmt.Errorf("telegram: getMe: %w", bot.Redact(err, cfg.Token))
	}
	// Every call binds its own context (Bot.with); none may inherit New's.
	api.Client = ctxClient{ctx: context.Background(), c: hc}
	return &Bot{svc: svc, api: api, httpClient: hc, fileEndpoint: cfg.FileEndpoint}, nil
}

// Username is the bot's @username without the "@".
func (b *Bot) Username() string { return b.api.Self.UserName }

func (b *Bot) log() *slog.Logger {
	l := b.Log
	if l == nil {
		l = slog.Default()
	}
	return l.With("platform", Platform)
}

// orDefault sets *v to def when it is zero or negative (unset).
func orDefault[T int | int64 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// defaults fills unset options, once: Run, RunWebhook and WebhookHandler
// call it, after the caller set the options.
func (b *Bot) defaults() { b.setup.Do(b.applyDefaults) }

func (b *Bot) applyDefaults() {
	orDefault(&b.PollTimeout, 30*time.Second)
	orDefault(&b.TypingInterval, 4*time.Second)
	b.typers.Every, b.typers.Send = b.TypingInterval, b.sendTyping
	orDefault(&b.AdminCacheTTL, 5*time.Minute)
	orDefault(&b.MaxFileSize, MaxDownload)
	orDefault(&b.Concurrency, 32)
	orDefault(&b.MaxRetries, 5)
	orDefault(&b.RetryBase, 500*time.Millisecond)
	orDefault(&b.RetryMax, 30*time.Second)
	orDefault(&b.ShutdownTimeout, 2*time.Minute)
	orDefault(&b.AlbumWait, 3*time.Second)
	orDefault(&b.PhotoDeadline, 90*time.Second)
	orDefault(&b.OutageRetry, time.Minute)
	orDefault(&b.OutageRounds, 3)
	b.sem = make(chan struct{}, b.Concurrency)
	b.admins.ttl = b.AdminCacheTTL
}

// setCommands registers the command menu (setMyCommands). A failure is
// logged: the bot works without a menu.
func (b *Bot) setCommands(ctx context.Context) {
	cmds := make([]tgbotapi.BotCommand, 0, len(bot.Commands))
	for _, c := range bot.Commands {
		cmds = append(cmds, tgbotapi.BotCommand{Command: c.Name, Description: c.Description})
	}
	if _, err := b.send(ctx, tgbotapi.NewSetMyCommands(cmds...)); err != nil {
		b.log().Warn("setMyCommands failed", "err", err)
	}
}

// Run long-polls for updates until ctx ends, then stops intake, waits for
// in-flight updates (their jobs are finished by the service's shutdown) and
// confirms the offset. It returns nil after a clean shutdown.
func (b *Bot) Run(ctx context.Context) error {
	b.defaults()
	b.setCommands(ctx)
	offset, err := b.replayJournal(ctx)
	if err != nil {
		return err
	}
	b.log().Info("polling for updates", "bot", b.Username(), "offset", offset)
	for failures := 0; ctx.Err() == nil; {
		raws, err := b.getUpdates(ctx, offset, b.PollTimeout)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			wait, _ := retryable(err)
			if apiCode(err) == http.StatusConflict {
				if strings.Contains(strings.ToLower(apiMessage(err)), "webhook") {
					// Left over from webhook mode: polling needs it removed.
					b.log().Warn("a webhook is set; deleting it to poll")
					if derr := b.request(ctx, "deleteWebhook", nil, nil); derr != nil {
						b.log().Error("deleteWebhook failed", "err", derr)
					}
				} else {
					b.log().Error("another process is polling with this bot token")
				}
			}
			if wait == 0 {
				wait = b.backoff(failures)
			}
			failures++
			b.log().Warn("getUpdates failed", "err", b.redact(err), "wait", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			continue
		}
		failures = 0
		if len(raws) == 0 {
			continue
		}
		next := raws[len(raws)-1].id + 1
		b.accept(ctx, raws, next)
		for _, r := range raws {
			b.dispatch(r.id, r.update)
		}
		offset = next
	}
	return b.drain(offset)
}

// drain waits for in-flight updates, then confirms offset to Telegram.
func (b *Bot) drain(offset int64) error {
	b.log().Info("stopping: waiting for in-flight updates")
	b.stopMu.Lock()
	b.stopping = true // updates waiting out an outage stay in the journal
	b.stopMu.Unlock()
	var err error
	if !bot.WaitJobs(&b.inflight, b.ShutdownTimeout) {
		err = errors.New("telegram: in-flight updates did not finish in time")
	}
	if offset > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		// getUpdates with the next offset tells Telegram everything before
		// it was handled; limit 1 and timeout 0 make it return at once.
		if _, cerr := b.getUpdatesOnce(ctx, offset, 0, 1); cerr != nil {
			b.log().Error("confirming offset failed", "offset", offset, "err", b.redact(cerr))
		} else {
			b.log().Info("offset confirmed", "offset", offset)
		}
		if b.Journal != nil {
			if jerr := b.Journal.Accept(ctx, nil, offset); jerr != nil {
				b.log().Error("persisting offset failed", "err", jerr)
			}
		}
	}
	return err
}

// rawUpdate is one update with its original JSON, for the journal.
type rawUpdate struct {
	id     int64
	raw    json.RawMessage
	update tgbotapi.Update
}

// getUpdates long-polls once (with retries left to the caller).
func (b *Bot) getUpdates(ctx context.Context, offset int64, timeout time.Duration) ([]rawUpdate, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+15*time.Second)
	defer cancel()
	return b.getUpdatesOnce(ctx, offset, timeout, 100)
}

func (b *Bot) getUpdatesOnce(ctx context.Context, offset int64, timeout time.Duration, limit int) ([]rawUpdate, error) {
	p := tgbotapi.Params{}
	if offset > 0 {
		p.AddNonZero64("offset", offset)
	}
	p.AddNonZero("limit", limit)
	p.AddNonZero("timeout", int(timeout/time.Second))
	p["allowed_updates"] = `["message","callback_query"]`
	resp, err := b.with(ctx).MakeRequest("getUpdates", p)
	if err != nil {
		return nil, err
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(resp.Result, &raws); err != nil {
		return nil, fmt.Errorf("decode updates: %w", err)
	}
	out := make([]rawUpdate, 0, len(raws))
	for _, raw := range raws {
		var u tgbotapi.Update
		if err := json.Unmarshal(raw, &u); err != nil {
			b.log().Error("undecodable update skipped", "err", err)
			continue
		}
		out = append(out, rawUpdate{id: int64(u.UpdateID), raw: raw, update: u})
	}
	slices.SortFunc(out, func(a, c rawUpdate) int { return int(a.id - c.id) })
	return out, nil
}

// accept journals a batch before the next poll confirms it to Telegram.
func (b *Bot) accept(ctx context.Context, raws []rawUpdate, next int64) {
	if b.Journal == nil {
		return
	}
	batch := make(map[int64][]byte, len(raws))
	for _, r := range raws {
		batch[r.id] = r.raw
	}
	if err := b.Journal.Accept(ctx, batch, next); err != nil {
		b.log().Error("journal accept failed", "err", err)
	}
}

// replayJournal dispatches updates accepted before a crash and returns the
// offset to poll from.
func (b *Bot) replayJournal(ctx context.Context) (int64, error) {
	if b.Journal == nil {
		return 0, nil
	}
	offset, err := b.Journal.Offset(ctx)
	if err != nil {
		return 0, fmt.Errorf("telegram: read journal offset: %w", err)
	}
	pending, err := b.Journal.Pending(ctx)
	if err != nil {
		return 0, fmt.Errorf("telegram: read journal: %w", err)
	}
	ids := make([]int64, 0, len(pending))
	for id := range pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var u tgbotapi.Update
		if err := json.Unmarshal(pending[id], &u); err != nil {
			b.log().Error("undecodable journaled update dropped", "update", id, "err", err)
			_ = b.Journal.Done(ctx, id)
			continue
		}
		b.log().Info("replaying unfinished update", "update", id)
		b.dispatch(id, u)
	}
	return offset, nil
}

// tracker follows one update from dispatch until it is handled.
type tracker struct {
	b    *Bot
	id   int64
	u    tgbotapi.Update
	once sync.Once
	// round counts the dispatches of this update after outages
	// (retryLater).
	round int
}

// finish marks the update handled (its reply went out or failed for good):
// it leaves the journal. Only the first of finish and keep counts.
func (t *tracker) finish() {
	t.once.Do(func() {
		b := t.b
		if b.Journal == nil {
			b.untrack()
			return
		}
		// The journal batches concurrent removals into one fsync; that wait
		// must not hold up the service's worker that delivered.
		go func() {
			defer b.untrack()
			if err := b.Journal.Done(context.Background(), t.id); err != nil {
				b.log().Error("journal done failed", "update", t.id, "err", err)
			}
		}()
	})
}

// keep stops tracking the update but leaves it in the journal, to be
// replayed at the next start (the service stopped before taking it).
func (t *tracker) keep() {
	t.once.Do(func() {
		t.b.log().Info("update kept for the next start", "update", t.id)
		t.b.untrack()
	})
}

// retryLater leaves the update in the journal and, while the bot runs,
// dispatches it again after OutageRetry, up to OutageRounds tries in all
// (each rides out PhotoDeadline): Telegram was unreachable for a whole photo
// deadline.
func (t *tracker) retryLater() {
	t.once.Do(func() {
		b := t.b
		if t.round+1 >= b.OutageRounds {
			b.log().Info("update kept for the next start", "update", t.id)
		} else {
			b.log().Info("update kept; trying again later", "update", t.id, "wait", b.OutageRetry)
			time.AfterFunc(b.OutageRetry, func() { b.redispatch(t.id, t.u, t.round+1) })
		}
		b.untrack()
	})
}

// untrack ends the tracking of one dispatched update.
func (b *Bot) untrack() {
	b.tracked.Add(-1)
	b.inflight.Done()
}

// redispatch dispatches an update again, unless the bot is stopping (it
// then stays in the journal for the next start).
func (b *Bot) redispatch(id int64, u tgbotapi.Update, round int) {
	b.stopMu.Lock()
	defer b.stopMu.Unlock()
	if b.stopping {
		return
	}
	b.dispatchRound(id, u, round)
}

// dispatch handles one update on a bounded goroutine; the handler calls
// the tracker's finish (or keep, or retryLater) exactly once.
func (b *Bot) dispatch(id int64, u tgbotapi.Update) { b.dispatchRound(id, u, 0) }

func (b *Bot) dispatchRound(id int64, u tgbotapi.Update, round int) {
	b.tracked.Add(1)
	b.inflight.Add(1)
	tr := &tracker{b: b, id: id, u: u, round: round}
	b.sem <- struct{}{}
	go func() {
		defer func() { <-b.sem }()
		defer func() {
			if p := recover(); p != nil {
				b.log().Error("update handler panicked", "update", id, "panic", p)
				tr.finish()
			}
		}()
		// Handlers run on their own context: an update taken in is finished
		// even while the process shuts down.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Its replies ride out an outage as a photo's do.
		ctx = withPatience(ctx, time.Now().Add(b.PhotoDeadline))
		b.handle(ctx, u, tr)
	}()
}

func chatIDString(id int64) string { return strconv.FormatInt(id, 10) }
