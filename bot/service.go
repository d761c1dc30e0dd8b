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

	"golang.org/x/sync/semaphore"
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
	// FetchTime is Job.Fetch's (the photo's download); zero when the
	// description came from the cache.
	FetchTime time.Duration
}

// Service runs jobs in two stages: captioning (fetch and Describe, CPU
// work) on a pool of Workers fed by a bounded queue, then refining (Refine,
// mostly waiting on an LLM) with RefineWorkers at once, so a slow LLM never
// holds a captioning worker. MaxQueueWait bounds how long a photo waits for
// either stage. It applies per-user and per-chat rate limits, keeps a
// raw-caption cache, and answers the platform-neutral commands. Set the option fields before Start; they must not
// change afterwards.
type Service struct {
	// Workers is the number of photos captioned (fetched and described) at
	// once; zero means runtime.NumCPU().
	Workers int
	// RefineWorkers is the number of posts refined at once, i.e. of LLM
	// calls in flight; zero means DefaultRefineWorkers. Refining does not
	// hold a captioning worker.
	RefineWorkers int
	// MaxQueueWait bounds the wait of a photo, counted from Submit: one
	// still waiting for a captioning worker after it is answered ErrBusy
	// (try again), and one captioned but still waiting for a refine slot
	// after it gets Fallback's post. Zero means DefaultMaxQueueWait.
	MaxQueueWait time.Duration
	// Fallback writes the post of a photo that waited MaxQueueWait for a
	// refine slot: captionbot's offline refiner (fast, no network). Nil
	// means such photos keep waiting, within JobTimeout.
	Fallback Refiner
	// QueueSize bounds the jobs waiting for a worker; when it is full, Submit
	// returns ErrBusy. A queued job holds no photo (Fetch runs in the
	// worker), so the queue is cheap. Zero means 16 per worker, at least 256.
	// Accepted jobs in all stages together are bounded too, by QueueSize +
	// Workers + RefineWorkers.
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
	// Refused, when set, is told each job Submit refuses (rate limited,
	// busy, stopped), e.g. for a metric; it must not block.
	Refused func(job Job, err error)
	// Now is the clock for rate limits and the cache; nil means time.Now.
	Now func() time.Time

	describer Describer
	refiner   Refiner
	prefs     Preferences

	mu          sync.Mutex
	started     bool
	stopping    bool
	inflight    int // accepted jobs not yet delivered
	maxInflight int
	refineSlots *semaphore.Weighted
	queue       chan *queued
	wg          sync.WaitGroup
	jobCtx      context.Context
	cancel      context.CancelFunc
	limits      *limiter
	cache       *descCache
}

type queued struct {
	job      Job
	accepted time.Time     // by Service.Now
	waited   time.Duration // in the queue, until a worker took it
}

// Defaults of the stage options.
const (
	DefaultRefineWorkers = 8
	DefaultMaxQueueWait  = 30 * time.Second
)

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
	refiners := s.RefineWorkers
	if refiners <= 0 {
		refiners = DefaultRefineWorkers
	}
	s.started = true
	s.queue = make(chan *queued, size)
	s.refineSlots = semaphore.NewWeighted(int64(refiners))
	// Every accepted job is queued, captioning or refining (or waiting
	// for a refine slot, one goroutine each): this bounds them all.
	s.maxInflight = size + workers + refiners
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
	err := s.submit(job)
	if err != nil && s.Refused != nil && job.Deliver != nil && job.Fetch != nil {
		s.Refused(job, err)
	}
	return err
}

func (s *Service) submit(job Job) error {
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
	if len(s.queue) == cap(s.queue) || s.inflight >= s.maxInflight {
		return ErrBusy
	}
	now := s.now()
	if err := s.limits.allow(now, job); err != nil {
		return err
	}
	s.inflight++
	s.queue <- &queued{job: job, accepted: now}
	return nil
}

func (s *Service) maxQueueWait() time.Duration {
	return orDuration(s.MaxQueueWait, DefaultMaxQueueWait)
}

func (s *Service) worker() {
	defer s.wg.Done()
	for q := range s.queue {
		s.process(q)
	}
}

// process is a captioning worker's part of a job: it captions the photo,
// then hands the job to a goroutine that waits for a refine slot, so the
// worker is free for the next photo at once.
func (s *Service) process(q *queued) {
	job := q.job
	if s.jobCtx.Err() != nil {
		s.finish(q, Result{Variant: job.Variant, Err: ErrStopped}, "")
		return
	}
	q.waited = s.now().Sub(q.accepted)
	if wait := q.waited; wait > s.maxQueueWait() {
		s.finish(q, Result{Variant: job.Variant,
			Err: fmt.Errorf("%w: waited %s for a captioning worker", ErrBusy, wait.Round(time.Millisecond))}, "")
		return
	}
	ctx, cancel := context.WithTimeout(s.jobCtx, orDuration(s.JobTimeout, 2*time.Minute))
	res, req := s.describe(ctx, job)
	if res.Err != nil {
		cancel()
		s.finish(q, s.stoppedErr(res), "")
		return
	}
	s.wg.Add(1) // bounded: at most maxInflight jobs exist
	go func() {
		defer s.wg.Done()
		defer cancel()
		res, fellBack := s.refine(ctx, q, res, req)
		s.finish(q, s.stoppedErr(res), fellBack)
	}()
}

// stoppedErr marks an error that a shutdown caused.
func (s *Service) stoppedErr(res Result) Result {
	if res.Err != nil && s.jobCtx.Err() != nil && !errors.Is(res.Err, ErrStopped) {
		res.Err = fmt.Errorf("%w: %w", ErrStopped, res.Err)
	}
	return res
}

// finish delivers a job's result and logs its outcome; fellBack says why
// the Fallback refiner wrote the post, if it did.
func (s *Service) finish(q *queued, res Result, fellBack string) {
	job := q.job
	res.Elapsed = s.now().Sub(q.accepted)

	dctx, cancel := context.WithTimeout(context.WithoutCancel(s.jobCtx), orDuration(s.DeliverTimeout, time.Minute))
	deliverStart := time.Now()
	derr := safeDeliver(dctx, job, res)
	deliverTime := time.Since(deliverStart)
	cancel()
	s.mu.Lock()
	s.inflight--
	s.mu.Unlock()

	log := s.log().With("platform", job.Platform, "chat", job.ChatID, "network", res.Settings.Network,
		"variant", job.Variant, "cached", res.Cached, "dur", res.Elapsed,
		"queue_wait", q.waited, "fetch", res.FetchTime, "deliver", deliverTime)
	switch {
	case derr != nil:
		log.Error("reply not delivered", "err", derr)
	case res.Err != nil && isUserError(res.Err):
		log.Info("photo refused", "reason", res.Err)
	case errors.Is(res.Err, ErrBusy):
		log.Warn("photo waited too long, asked to try again", "reason", res.Err)
	case res.Err != nil:
		log.Error("job failed", "err", res.Err)
	case fellBack != "":
		log.Warn("caption sent", "refiner", res.Post.WrittenBy, "fallback", fellBack)
	default:
		log.Info("caption sent", "refiner", res.Post.WrittenBy)
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

// describe resolves settings and gets the description (cache, or fetch +
// Describe): the captioning stage. It returns the result so far (Err set
// on failure) and the refine request. A panic in a dependency becomes an
// error.
func (s *Service) describe(ctx context.Context, job Job) (res Result, req RefineRequest) {
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
		fetchStart := time.Now()
		img, err = job.Fetch(ctx)
		res.FetchTime = time.Since(fetchStart)
		if err != nil {
			res.Err = fmt.Errorf("fetch photo: %w", err)
			return res, req
		}
		if len(img) == 0 {
			res.Err = fmt.Errorf("fetch photo: %w", ErrEmptyImage)
			return res, req
		}
		desc, err = s.describer.Describe(ctx, img)
		if err != nil {
			res.Err = fmt.Errorf("describe photo: %w", err)
			return res, req
		}
		s.cache.put(key, desc, s.now())
	}
	res.Description = desc
	return res, RefineRequest{
		Description: desc,
		Network:     res.Settings.Network,
		Tone:        res.Settings.Tone,
		Language:    res.Settings.Language,
		Hashtags:    res.Settings.HashtagCount(),
		Hint:        job.Hint,
		Image:       img,
		Variant:     job.Variant,
	}
}

// refine writes the post once a refine slot is free: the refining stage.
// A photo that waited MaxQueueWait (since Submit) for a slot gets the
// Fallback refiner's post instead; fellBack then says so.
func (s *Service) refine(ctx context.Context, q *queued, in Result, req RefineRequest) (res Result, fellBack string) {
	res = in
	defer func() {
		if p := recover(); p != nil {
			s.log().Error("job panicked", "platform", q.job.Platform, "panic", p, "stack", string(debug.Stack()))
			res.Err = errors.New("internal error")
		}
	}()
	r := s.refiner
	var err error
	if !s.refineSlots.TryAcquire(1) { // a free slot is used, however late
		waitCtx, cancel := ctx, context.CancelFunc(func() {})
		if s.Fallback != nil {
			left := s.maxQueueWait() - s.now().Sub(q.accepted)
			waitCtx, cancel = context.WithTimeout(ctx, max(left, 0))
		}
		err = s.refineSlots.Acquire(waitCtx, 1)
		cancel()
	}
	switch {
	case err == nil:
		defer s.refineSlots.Release(1)
	case ctx.Err() != nil:
		res.Err = fmt.Errorf("refine: %w", ctx.Err())
		return res, ""
	default:
		r, fellBack = s.Fallback, "waited too long for a refine slot"
	}
	post, err := r.Refine(ctx, req)
	if err != nil {
		res.Err = fmt.Errorf("refine: %w", err)
		return res, fellBack
	}
	res.Post = post
	return res, fellBack
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
