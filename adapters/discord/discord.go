package discord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/captionbot/captionbot/bot"
)

// Platform is the name this adapter gives bot jobs and preference keys.
const Platform = "discord"

// DefaultMaxAttachmentBytes is the largest attachment captioned when
// Config.MaxAttachmentBytes is zero: Discord's own upload limit for
// servers without boosts.
const DefaultMaxAttachmentBytes = 10 << 20

// Config configures a Bot. Token is required; the rest have defaults.
type Config struct {
	// Token is the bot token from the Developer Portal, without "Bot ".
	Token string
	// ApplicationID is the application's ID; empty means the one READY
	// reports.
	ApplicationID string
	// GuildID, when set, registers the commands in that guild only (updates
	// show at once) instead of globally.
	GuildID string
	// MessageContent asks for the privileged MESSAGE_CONTENT intent (it must
	// also be switched on in the Developer Portal). Without it, DMs, messages
	// that mention the bot, slash commands and the context menu still work;
	// with it, mentioning the bot in a reply to someone else's photo works too.
	MessageContent bool
	// APIBase replaces "https://discord.com/" (see SetAPIBase); empty keeps it.
	APIBase string
	// GatewayURL is the websocket URL to dial instead of asking GET /gateway.
	GatewayURL string
	// ShardID and ShardCount split a large install over processes; a
	// ShardCount of zero or one means no sharding.
	ShardID, ShardCount int
	// MaxAttachmentBytes is the largest attachment downloaded; zero means
	// DefaultMaxAttachmentBytes.
	MaxAttachmentBytes int64
	// PhotoTTL is how long Regenerate and network buttons can fetch a
	// photo's attachment again (the service's raw-caption cache usually
	// spares the download); zero means one hour.
	PhotoTTL time.Duration
	// ShutdownTimeout bounds how long Run waits, after its context ends, for
	// this adapter's accepted jobs to be delivered; zero means 45 seconds.
	// The service delivers every accepted job (with an apology when its own
	// grace period runs out), so this is only a backstop.
	ShutdownTimeout time.Duration
	// HTTPClient downloads attachments and carries REST calls; nil means a
	// client with a 30-second timeout.
	HTTPClient *http.Client
	// Log receives the adapter's and discordgo's messages; nil means
	// slog.Default(). The token is never logged.
	Log *slog.Logger
}

// Service is what the adapter needs of the core; *bot.Service is one.
type Service interface {
	// Submit queues a photo job; its error is for the user
	// (bot.UserMessage).
	Submit(job bot.Job) error
	// HandleCommand answers a command.
	HandleCommand(ctx context.Context, req bot.CommandRequest) bot.Reply
}

var _ Service = (*bot.Service)(nil)

// Bot connects one bot.Service to Discord. Create it with New and call Run.
type Bot struct {
	cfg  Config
	svc  Service
	log  *slog.Logger
	http *http.Client

	dg    *discordgo.Session
	botID atomic.Value // string: the bot user's ID, from READY
	appID atomic.Value // string
	// notices keeps a burst of refused photos to one notice per kind.
	notices bot.Notices
	photos  *photoStore
	// events queues gateway events for eventWorkers handlers; discordgo
	// calls its handlers synchronously (SyncEvents), so a full queue slows
	// the gateway reader instead of piling up goroutines.
	events     chan func()
	stopEvents chan struct{}
	handlers   sync.WaitGroup
	jobs       sync.WaitGroup
	typing     bot.Typing[string]
}

// ErrConfig reports an unusable Config.
var ErrConfig = errors.New("discord: bad configuration")

// Validate reports the first problem with c, wrapping ErrConfig.
func (c Config) Validate() error {
	if strings.TrimSpace(c.Token) == "" {
		return fmt.Errorf("%w: no token (set [discord] token or CAPTIONBOT_DISCORD_TOKEN)", ErrConfig)
	}
	if c.ShardCount > 1 && (c.ShardID < 0 || c.ShardID >= c.ShardCount) {
		return fmt.Errorf("%w: shard_id %d must be from 0 to shard_count-1 (%d)", ErrConfig, c.ShardID, c.ShardCount-1)
	}
	if c.ShardCount <= 1 && c.ShardID != 0 {
		return fmt.Errorf("%w: shard_id %d needs shard_count > %d", ErrConfig, c.ShardID, c.ShardID)
	}
	if c.MaxAttachmentBytes < 0 {
		return fmt.Errorf("%w: negative max attachment size", ErrConfig)
	}
	if c.GatewayURL != "" {
		if err := checkGatewayURL(c.GatewayURL); err != nil {
			return fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	if c.APIBase != "" {
		if err := checkAPIBase(c.APIBase); err != nil {
			return fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	return nil
}

// New checks cfg and prepares a Bot on svc. It connects nothing: Run does.
func New(cfg Config, svc Service) (*Bot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if svc == nil {
		return nil, fmt.Errorf("%w: no service", ErrConfig)
	}
	if cfg.MaxAttachmentBytes == 0 {
		cfg.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	// A token pasted with its "Bot " prefix would be sent as "Bot Bot ...".
	cfg.Token = strings.TrimPrefix(strings.TrimSpace(cfg.Token), "Bot ")
	b := &Bot{
		cfg:    cfg,
		svc:    svc,
		log:    cfg.Log,
		http:   cfg.HTTPClient,
		photos: newPhotoStore(cfg.PhotoTTL, 4096),
		events: make(chan func(), eventQueue),
	}
	b.typing.Every, b.typing.Send = typingEvery, b.sendTyping
	if b.log == nil {
		b.log = slog.Default()
	}
	b.log = b.log.With("platform", Platform)
	if b.http == nil {
		b.http = &http.Client{Timeout: 30 * time.Second}
	}
	b.botID.Store("")
	b.appID.Store(cfg.ApplicationID)
	return b, nil
}

// Connect connects to the gateway and registers the commands. Run calls it
// when it was not called before; call it first to learn about a bad token or
// an unreachable Discord before running anything else. discordgo's dialer
// and HTTP client bound how long it takes.
func (b *Bot) Connect() error {
	if b.dg != nil {
		return errors.New("discord: already connected")
	}
	dg, err := b.open()
	if err != nil {
		return err
	}
	if err := b.registerCommands(); err != nil {
		b.closeGateway(dg)
		b.stopHandlers()
		b.dg = nil
		return err
	}
	b.log.Info("discord bot connected", "app", b.applicationID(), "guild", b.cfg.GuildID,
		"shard", b.cfg.ShardID, "shards", max(b.cfg.ShardCount, 1), "message_content", b.cfg.MessageContent)
	return nil
}

// Run handles events until ctx ends (connecting first unless Connect was
// called). Then it closes the gateway, waits (up to ShutdownTimeout) until
// every job it submitted was delivered, and returns nil. It returns an error
// only when it cannot connect.
func (b *Bot) Run(ctx context.Context) error {
	if b.dg == nil {
		if err := b.Connect(); err != nil {
			return err
		}
	}
	<-ctx.Done()
	b.closeGateway(b.dg)
	b.stopHandlers() // no job is submitted after this, so jobs.Wait is safe
	if bot.WaitJobs(&b.jobs, orDuration(b.cfg.ShutdownTimeout, 45*time.Second)) {
		b.log.Info("discord bot stopped")
	} else {
		b.log.Error("discord bot stopped with replies still pending")
	}
	return nil
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Intents returns the gateway intents for cfg: guilds, guild messages and
// direct messages, plus message content when enabled.
func Intents(cfg Config) discordgo.Intent {
	in := discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if cfg.MessageContent {
		in |= discordgo.IntentsMessageContent
	}
	return in
}

// open creates the session, installs the handlers and connects.
func (b *Bot) open() (*discordgo.Session, error) {
	if b.cfg.APIBase != "" {
		if err := SetAPIBase(b.cfg.APIBase); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrConfig, err)
		}
	}
	installLogger(b.log)
	dg, err := discordgo.New("Bot " + b.cfg.Token)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	dg.LogLevel = discordgo.LogWarning
	dg.Identify.Intents = Intents(b.cfg)
	if b.cfg.ShardCount > 1 {
		dg.ShardID, dg.ShardCount = b.cfg.ShardID, b.cfg.ShardCount
	}
	client := *b.http
	if b.cfg.GatewayURL != "" {
		next := client.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		client.Transport = &gatewayTransport{gatewayURL: b.cfg.GatewayURL, next: next}
	}
	dg.Client = &client
	dg.StateEnabled = false // the adapter needs no cache of guilds and members

	dg.SyncEvents = true
	b.startHandlers()
	dg.AddHandler(b.onReady)
	dg.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		b.enqueue(func() { b.onInteraction(i.Interaction) })
	})
	dg.AddHandler(func(s *discordgo.Session, m *discordgo.MessageCreate) {
		b.enqueue(func() { b.onMessage(m.Message) })
	})
	b.dg = dg // before Open: handlers use it as soon as events arrive
	if err := dg.Open(); err != nil {
		b.dg = nil
		b.stopHandlers()
		return nil, fmt.Errorf("discord: connect to the gateway: %w", explainClose(err))
	}
	return dg, nil
}

// closeHints are the gateway close codes a connection cannot recover from,
// with what the operator can do about them.
var closeHints = map[int]string{
	4004: "Discord refused the token: copy it again from the Developer Portal (Bot → Reset Token) into [discord] token or $CAPTIONBOT_DISCORD_TOKEN",
	4010: "Discord refused the shard: check [discord] shard_id and shard_count",
	4011: "Discord wants this bot sharded: set [discord] shard_count and run one process per shard_id",
	4013: "Discord refused the intents",
	4014: "message_content is on, but the Message Content Intent is not switched on for this bot: " +
		"switch it on in the Developer Portal (Bot → Privileged Gateway Intents), or set [discord] message_content = false",
}

// IsPermanent reports whether a Connect error cannot pass by retrying: a bad
// configuration, or a gateway close that names a cause (a refused token,
// shard or intents). Other errors (Discord unreachable) may.
func IsPermanent(err error) bool {
	var ge *gatewayCloseError
	return errors.Is(err, ErrConfig) || errors.As(err, &ge)
}

// gatewayCloseError is a gateway close with a known cause; errors.As still
// finds the websocket.CloseError.
type gatewayCloseError struct {
	hint string
	err  error
}

func (e *gatewayCloseError) Error() string { return e.hint + " (" + e.err.Error() + ")" }
func (e *gatewayCloseError) Unwrap() error { return e.err }

// explainClose adds the cause to a gateway close error with a known code.
func explainClose(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	if hint, ok := closeHints[ce.Code]; ok {
		return &gatewayCloseError{hint: hint, err: err}
	}
	return err
}

// Event handling: eventWorkers goroutines run handlers from a queue of
// eventQueue. Handlers only acknowledge and submit; the photo work is on
// the service's worker pool.
const (
	eventWorkers = 8
	eventQueue   = 256
)

func (b *Bot) startHandlers() {
	b.stopEvents = make(chan struct{})
	for range eventWorkers {
		b.handlers.Add(1)
		go func() {
			defer b.handlers.Done()
			for {
				select {
				case f := <-b.events:
					b.safely(f)
				case <-b.stopEvents:
					for { // finish what was queued before the stop
						select {
						case f := <-b.events:
							b.safely(f)
						default:
							return
						}
					}
				}
			}
		}()
	}
}

// stopHandlers lets the handlers finish the queue and waits for them. Call
// it after the gateway is closed.
func (b *Bot) stopHandlers() {
	close(b.stopEvents)
	b.handlers.Wait()
}

// enqueue hands an event to the handlers; after stopHandlers it drops it.
func (b *Bot) enqueue(f func()) {
	select {
	case <-b.stopEvents:
		return
	default:
	}
	select {
	case b.events <- f:
	case <-b.stopEvents:
	}
}

// safely runs a handler; a panic is logged, not fatal.
func (b *Bot) safely(f func()) {
	defer func() {
		if p := recover(); p != nil {
			b.log.Error("discord event handler panicked", "panic", p, "stack", string(debug.Stack()))
		}
	}()
	f()
}

func (b *Bot) onReady(_ *discordgo.Session, r *discordgo.Ready) {
	if r.User != nil {
		b.botID.Store(r.User.ID)
	}
	if b.cfg.ApplicationID == "" && r.Application != nil {
		b.appID.Store(r.Application.ID)
	}
	b.log.Info("discord gateway ready", "guilds", len(r.Guilds))
}

func (b *Bot) botUserID() string     { return b.botID.Load().(string) }
func (b *Bot) applicationID() string { return b.appID.Load().(string) }

// closeGateway closes the websocket. discordgo's heartbeat loop sends its
// first beat right after connecting, without looking at the close signal;
// closing before that beat makes the closed session reconnect. So wait
// (briefly) for DataReady, which it sets after that beat.
func (b *Bot) closeGateway(dg *discordgo.Session) {
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		dg.RLock()
		ready := dg.DataReady
		dg.RUnlock()
		if ready {
			break
		}
	}
	if err := dg.Close(); err != nil {
		b.log.Warn("close discord gateway", "err", err)
	}
}

// discordgo logs through a package variable; route it to the newest Bot's
// slog logger. Its debug level would print the IDENTIFY payload (with the
// token), so sessions run at LogWarning.
var (
	loggerOnce sync.Once
	dgLog      atomic.Pointer[slog.Logger]
)

func installLogger(l *slog.Logger) {
	dgLog.Store(l)
	loggerOnce.Do(func() {
		discordgo.Logger = func(level, caller int, format string, a ...any) {
			lvl := slog.LevelInfo
			switch level {
			case discordgo.LogError:
				lvl = slog.LevelError
			case discordgo.LogWarning:
				lvl = slog.LevelWarn
			case discordgo.LogDebug:
				return
			}
			dgLog.Load().Log(context.Background(), lvl, "discordgo: "+strings.TrimSpace(fmt.Sprintf(format, a...)))
		}
	})
}
