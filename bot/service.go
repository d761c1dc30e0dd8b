package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Job is one photo to caption and answer. Adapters build a Job per photo (or
// per button press) and Submit it; a worker fetches the photo, captions it,
// refines the caption and calls Deliver exactly once.
type Job struct {
	// Platform names the adapter ("telegram", "discord"); it scopes IDs.
	Platform string
	// ChatID and UserID are the platform's IDs as strings. In a private chat
	// the chat is the user; Group is true for groups, channels and guilds.
	ChatID string
	UserID string
	Group  bool
	// PhotoKey identifies the photo for the raw-caption cache (Telegram's
	// file_unique_id, a Discord attachment ID). Empty disables caching.
	PhotoKey string
	// Fetch downloads the photo. The worker calls it only when the photo's
	// description is not cached, so a Regenerate skips the download and the CNN.
	Fetch func(ctx context.Context) ([]byte, error)
	// Override holds per-job choices (a slash command's options, a network
	// button); set fields win over every stored setting.
	Override Settings
	// Hint is the user's free text (e.g. the words after /caption); the
	// refiner treats it as data.
	Hint string
	// Variant asks for another wording of the same post (Regenerate); 0 is
	// the first rendering.
	Variant int
	// Deliver sends the Result to the chat: the post, or UserMessage(Err).
	// Its error is logged; the job counts as handled either way.
	Deliver func(ctx context.Context, r Result) error
}

// Result is what a worker hands to Job.Deliver.
type Result struct {
	// Post is the refined post; zero when Err is set.
	Post Post
	// Settings are the resolved settings the post was written with
	// (Network and Language always set).
	Settings Settings
	// Variant echoes Job.Variant.
	Variant int
	// Description is the raw caption the post came from.
	Description Description
	// Cached reports that the description came from the cache (no download,
	// no CNN run).
	Cached bool
	// Err is why there is no post; show UserMessage(Err) to the user.
	Err error
	// Elapsed is the time from Submit to the end of refinement.
	Elapsed time.Duration
}

// Service runs jobs on a bounded worker pool with a bounded queue, per-user
// and per-chat rate limits and a raw-caption cache, and answers the
// platform-neutral commands. Set the option fields before Start; they must not
// change afterwards.
type Service struct {
	// Workers is the number of jobs run at once; zero means runtime.NumCPU().
	Workers int
	// QueueSize bounds the jobs waiting for a worker; when it is full, Submit
	// returns ErrBusy. A queued job holds no photo (Fetch runs in the
	// worker), so the queue is cheap. Zero means 16 per worker, at least 256.
	QueueSize int
	// UserRate and UserBurst limit the photos one user may submit (token
	// bucket: Burst at once, then Rate per second). ChatRate and ChatBurst do
	// the same per group chat. A zero Rate means no limit; a zero Burst means 1.
	UserRate  rate.Limit
	UserBurst int
	ChatRate  rate.Limit
	ChatBurst int
	// CacheTTL is how long a photo's raw description is kept for Regenerate
	// and network buttons; zero means one hour. CacheSize bounds the entries;
	// zero means 4096.
	CacheTTL  time.Duration
	CacheSize int
	// DefaultNetwork is the network of users and chats that chose none; empty
	// means "instagram".
	DefaultNetwork string
	// JobTimeout bounds fetching, captioning and refining one photo; zero
	// means two minutes. DeliverTimeout bounds Deliver; zero means one minute.
	JobTimeout     time.Duration
	DeliverTimeout time.Duration
	// ShutdownGrace is how long Run lets queued and in-flight jobs finish
	// after its context ends; zero means 30 seconds.
	ShutdownGrace time.Duration
	// Log receives job outcomes; nil means slog.Default().
	Log *slog.Logger
	// Now is the clock for rate limits and the cache; nil means time.Now.
	Now func() time.Time

	describer Describer
	refiner   Refiner
	prefs     Preferences

	mu       sync.Mutex
	started  bool
	stopping bool
	queue    chan *queued
	wg       sync.WaitGroup
	jobCtx   context.Context
	cancel   context.CancelFunc
	limits   *limiter
	cache    *descCache
}

type queued struct {
	job      Job
	accepted time.Time
}

// NewService returns a Service that captions with d, writes posts with r and
// reads settings from p. Set options, then Start (or Run) it.
func NewService(d Describer, r Refiner, p Preferences) *Service {
	return &Service{describer: d, refiner: r, prefs: p}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func orDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func (s *Service) defaultNetwork() string {
	if s.DefaultNetwork != "" {
		return s.DefaultNetwork
	}
	return "instagram"
}

// Start starts the workers. Jobs run on a context of their own, not on the
// caller's, so that a shutdown signal does not cancel accepted jobs; Shutdown
// ends them.
func (s *Service) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("bot: service already started")
	}
	if s.DefaultNetwork != "" {
		if _, err := ParseNetwork(s.DefaultNetwork); err != nil {
			return fmt.Errorf("bot: default network: %w", err)
		}
	}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	size := s.QueueSize
	if size <= 0 {
		size = max(16*workers, 256)
	}
	s.started = true
	s.queue = make(chan *queued, size)
	s.jobCtx, s.cancel = context.WithCancel(context.Background())
	s.limits = newLimiter(s.UserRate, s.UserBurst, s.ChatRate, s.ChatBurst)
	s.cache = newDescCache(orDuration(s.CacheTTL, time.Hour), s.CacheSize)
	for range workers {
		s.wg.Add(1)
		go s.worker()
	}
	return nil
}

// Run starts the service (unless started), waits for ctx to end, then shuts
// down with ShutdownGrace. It returns Shutdown's error.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		if err := s.Start(); err != nil {
			return err
		}
	}
	<-ctx.Done()
	grace, cancel := context.WithTimeout(context.Background(), orDuration(s.ShutdownGrace, 30*time.Second))
	defer cancel()
	return s.Shutdown(grace)
}

// Shutdown stops intake (Submit returns ErrStopped), then waits until every
// accepted job was delivered. If ctx ends first, the remaining jobs are
// cancelled and delivered with ErrStopped (each Deliver still gets its own
// DeliverTimeout), and Shutdown returns ctx's error.
func (s *Service) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started {
		s.stopping = true
		s.mu.Unlock()
		return nil
	}
	if !s.stopping {
		s.stopping = true
		close(s.queue)
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	s.cancel()
	select {
	case <-done:
	case <-time.After(orDuration(s.DeliverTimeout, time.Minute)):
	}
	return fmt.Errorf("bot: shutdown: %w", ctx.Err())
}

// Submit queues a job. It returns ErrStopped when the service is not
// running, a *RateLimitError (errors.Is ErrRateLimited) when the user or the
// chat is over its limit, and ErrBusy when the queue is full. On nil, Deliver
// will be called exactly once.
func (s *Service) Submit(job Job) error {
	if job.Deliver == nil || job.Fetch == nil {
		return errors.New("bot: job without Fetch or Deliver")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started || s.stopping {
		return ErrStopped
	}
	// Only Submit sends, under s.mu, so a free slot seen here stays free;
	// checking it first means a busy reply costs the user no rate token.
	if len(s.queue) == cap(s.queue) {
		return ErrBusy
	}
	now := s.now()
	if err := s.limits.allow(now, job); err != nil {
		return err
	}
	s.queue <- &queued{job: job, accepted: now}
	return nil
}

func (s *Service) worker() {
	defer s.wg.Done()
	for q := range s.queue {
		s.process(q)
	}
}

func (s *Service) process(q *queued) {
	job := q.job
	var res Result
	if s.jobCtx.Err() != nil {
		res = Result{Variant: job.Variant, Err: ErrStopped}
	} else {
		ctx, cancel := context.WithTimeout(s.jobCtx, orDuration(s.JobTimeout, 2*time.Minute))
		res = s.compute(ctx, job)
		cancel()
		if res.Err != nil && s.jobCtx.Err() != nil {
			res.Err = fmt.Errorf("%w: %w", ErrStopped, res.Err)
		}
	}
	res.Elapsed = s.now().Sub(q.accepted)

	dctx, cancel := context.WithTimeout(context.WithoutCancel(s.jobCtx), orDuration(s.DeliverTimeout, time.Minute))
	derr := safeDeliver(dctx, job, res)
	cancel()

	log := s.log().With("platform", job.Platform, "chat", job.ChatID, "network", res.Settings.Network,
		"variant", job.Variant, "cached", res.Cached, "dur", res.Elapsed)
	switch {
	case derr != nil:
		log.Error("reply not delivered", "err", derr)
	case res.Err != nil && isUserError(res.Err):
		log.Info("photo refused", "reason", res.Err)
	case res.Err != nil:
		log.Error("job failed", "err", res.Err)
	default:
		log.Info("caption sent", "refiner", res.Post.Refiner)
	}
}

// isUserError reports errors caused by the user's input, not by the bot.
func isUserError(err error) bool {
	for _, e := range []error{ErrEmptyImage, ErrNotImage, ErrCorruptImage, ErrImageTooLarge,
		ErrImageTooSmall, ErrFileTooLarge, ErrUnsupportedFile, ErrPhotoExpired} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func safeDeliver(ctx context.Context, job Job, res Result) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("deliver panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return job.Deliver(ctx, res)
}

// compute resolves settings, gets the description (cache or fetch +
// describe) and refines it. A panic in a dependency becomes an error.
func (s *Service) compute(ctx context.Context, job Job) (res Result) {
	res.Variant = job.Variant
	defer func() {
		if p := recover(); p != nil {
			s.log().Error("job panicked", "platform", job.Platform, "panic", p, "stack", string(debug.Stack()))
			res.Err = errors.New("internal error")
		}
	}()
	eff := s.Effective(ctx, job.Platform, job.ChatID, job.UserID, job.Group)
	res.Settings = job.Override.Merge(eff)

	var img []byte
	key := cacheKey(job)
	desc, ok := s.cache.get(key, s.now())
	if ok {
		res.Cached = true
	} else {
		var err error
		img, err = job.Fetch(ctx)
		if err != nil {
			res.Err = fmt.Errorf("fetch photo: %w", err)
			return res
		}
		if len(img) == 0 {
			res.Err = fmt.Errorf("fetch photo: %w", ErrEmptyImage)
			return res
		}
		desc, err = s.describer.Describe(ctx, img)
		if err != nil {
			res.Err = fmt.Errorf("describe photo: %w", err)
			return res
		}
		s.cache.put(key, desc, s.now())
	}
	res.Description = desc
	post, err := s.refiner.Refine(ctx, RefineRequest{
		Description: desc,
		Network:     res.Settings.Network,
		Tone:        res.Settings.Tone,
		Language:    res.Settings.Language,
		Hashtags:    res.Settings.HashtagCount(),
		Hint:        job.Hint,
		Image:       img,
		Variant:     job.Variant,
	})
	if err != nil {
		res.Err = fmt.Errorf("refine: %w", err)
		return res
	}
	res.Post = post
	return res
}

// Defaults are the settings of a user or chat that chose nothing.
func (s *Service) Defaults() Settings {
	return Settings{Network: s.defaultNetwork(), Language: "en"}
}

// Effective returns the settings a photo from userID in chatID is captioned
// with, before per-job overrides. Resolution, field by field:
//
//   - private chat: user > bot default;
//   - group: chat (set by its admins) > user > bot default — a group usually
//     posts for one audience, so its admins' choice wins over a member's
//     personal taste; members still pick other networks per photo with the
//     buttons (a Job.Override).
//
// A store error is logged and the defaults apply: a photo never fails
// because settings cannot be read.
func (s *Service) Effective(ctx context.Context, platform, chatID, userID string, group bool) Settings {
	var eff Settings
	if group && chatID != "" {
		eff = eff.Merge(s.getPrefs(ctx, PrefKey{Platform: platform, Scope: ScopeChat, ID: chatID}))
	}
	if userID != "" {
		eff = eff.Merge(s.getPrefs(ctx, PrefKey{Platform: platform, Scope: ScopeUser, ID: userID}))
	}
	return eff.Merge(s.Defaults())
}

func (s *Service) getPrefs(ctx context.Context, k PrefKey) Settings {
	if s.prefs == nil {
		return Settings{}
	}
	st, err := s.prefs.Get(ctx, k)
	if err != nil {
		s.log().Error("read settings", "key", k.String(), "err", err)
		return Settings{}
	}
	return st.usable()
}
