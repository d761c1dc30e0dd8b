package bot_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
	"golang.org/x/time/rate"
)

// results collects delivered results.
type results struct {
	mu  sync.Mutex
	got []bot.Result
	ch  chan bot.Result
}

func newResults() *results { return &results{ch: make(chan bot.Result, 1000)} }

func (r *results) deliver(_ context.Context, res bot.Result) error {
	r.mu.Lock()
	r.got = append(r.got, res)
	r.mu.Unlock()
	r.ch <- res
	return nil
}

func (r *results) next(t *testing.T) bot.Result {
	t.Helper()
	select {
	case res := <-r.ch:
		return res
	case <-time.After(10 * time.Second):
		t.Fatal("no result delivered")
		return bot.Result{}
	}
}

// newService is bot.NewService with a silent log.
func newService(d bot.Describer, r bot.Refiner, p bot.Preferences) *bot.Service {
	s := bot.NewService(d, r, p)
	s.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	return s
}

func photoJob(r *results, user string) bot.Job {
	return bot.Job{
		Platform: "test", ChatID: user, UserID: user, PhotoKey: "photo-" + user,
		Fetch:   func(context.Context) ([]byte, error) { return []byte("jpeg"), nil },
		Deliver: r.deliver,
	}
}

func startService(t *testing.T, s *bot.Service) {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
}

func TestSubmitDeliversPost(t *testing.T) {
	d, rf, p := &bottest.Describer{}, &bottest.Refiner{}, &bottest.Preferences{}
	s := newService(d, rf, p)
	s.Workers = 2
	startService(t, s)
	r := newResults()
	if err := s.Submit(photoJob(r, "1")); err != nil {
		t.Fatal(err)
	}
	res := r.next(t)
	if res.Err != nil {
		t.Fatalf("Err = %v", res.Err)
	}
	if want := "[instagram//en/v0] a dog runs through the grass."; res.Post.Body != want {
		t.Errorf("caption = %q, want %q", res.Post.Body, want)
	}
	if res.Settings.Network != "instagram" || res.Cached {
		t.Errorf("settings %+v cached %v", res.Settings, res.Cached)
	}
}

func TestRegenerateUsesCache(t *testing.T) {
	d, rf := &bottest.Describer{}, &bottest.Refiner{}
	s := newService(d, rf, &bottest.Preferences{})
	startService(t, s)
	r := newResults()
	fetches := 0
	job := photoJob(r, "1")
	job.Fetch = func(context.Context) ([]byte, error) { fetches++; return []byte("jpeg"), nil }
	if err := s.Submit(job); err != nil {
		t.Fatal(err)
	}
	r.next(t)
	job.Variant = 1
	job.Override.Network = "linkedin"
	if err := s.Submit(job); err != nil {
		t.Fatal(err)
	}
	res := r.next(t)
	if !res.Cached || d.Calls() != 1 || fetches != 1 {
		t.Errorf("cached=%v describe calls=%d fetches=%d, want true 1 1", res.Cached, d.Calls(), fetches)
	}
	if !strings.HasPrefix(res.Post.Body, "[linkedin//en/v1]") {
		t.Errorf("caption %q", res.Post.Body)
	}
}

func TestCacheExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	d := &bottest.Describer{}
	s := newService(d, &bottest.Refiner{}, nil)
	s.CacheTTL = time.Minute
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	startService(t, s)
	r := newResults()
	for _, step := range []time.Duration{0, 30 * time.Second, 2 * time.Minute} {
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
		if err := s.Submit(photoJob(r, "1")); err != nil {
			t.Fatal(err)
		}
		r.next(t)
	}
	if d.Calls() != 2 {
		t.Errorf("describe calls = %d, want 2 (miss, hit, expired)", d.Calls())
	}
}

func TestSettingsResolution(t *testing.T) {
	ctx := context.Background()
	p := &bottest.Preferences{}
	five := 5
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(p.Set(ctx, bot.PrefKey{Platform: "test", Scope: bot.ScopeUser, ID: "u"}, bot.Settings{Network: "x", Tone: "fun"}))
	must(p.Set(ctx, bot.PrefKey{Platform: "test", Scope: bot.ScopeChat, ID: "g"}, bot.Settings{Network: "linkedin", Hashtags: &five}))
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, p)
	s.DefaultNetwork = "facebook"

	tests := []struct {
		name        string
		chat, user  string
		group       bool
		wantNetwork string
		wantTone    string
		wantTags    int
	}{
		{"private user settings", "u", "u", false, "x", "fun", -1},
		{"private new user gets default", "n", "n", false, "facebook", "", -1},
		{"group chat wins, user fills gaps", "g", "u", true, "linkedin", "fun", 5},
		{"group without settings uses user", "g2", "u", true, "x", "fun", -1},
		{"new user in new group", "g2", "n", true, "facebook", "", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Effective(ctx, "test", tt.chat, tt.user, tt.group)
			if got.Network != tt.wantNetwork || got.Tone != tt.wantTone || got.HashtagCount() != tt.wantTags || got.Language != "en" {
				t.Errorf("got %+v (tags %d)", got, got.HashtagCount())
			}
		})
	}

	p.GetErr = errors.New("disk on fire")
	if got := s.Effective(ctx, "test", "u", "u", false); got.Network != "facebook" {
		t.Errorf("store error: network %q, want default", got.Network)
	}
}

func TestOverrideWins(t *testing.T) {
	rf := &bottest.Refiner{}
	p := &bottest.Preferences{}
	_ = p.Set(context.Background(), bot.PrefKey{Platform: "test", Scope: bot.ScopeUser, ID: "1"}, bot.Settings{Network: "x", Language: "de"})
	s := newService(&bottest.Describer{}, rf, p)
	startService(t, s)
	r := newResults()
	job := photoJob(r, "1")
	job.Override = bot.Settings{Network: "tiktok", Tone: "witty"}
	job.Hint = "at the beach"
	_ = s.Submit(job)
	r.next(t)
	req := rf.Requests()[0]
	if req.Network != "tiktok" || req.Tone != "witty" || req.Language != "de" || req.Hint != "at the beach" || req.Hashtags != -1 {
		t.Errorf("request %+v", req)
	}
	if string(req.Image) != "jpeg" {
		t.Errorf("image not passed to refiner")
	}
}

func TestBusyWhenQueueFull(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		started <- struct{}{}
		<-release
		return bottest.DefaultDescription, nil
	}}
	s := newService(d, &bottest.Refiner{}, nil)
	s.Workers, s.QueueSize = 1, 2
	startService(t, s)
	r := newResults()
	submit := func(i int) error {
		j := photoJob(r, fmt.Sprint(i))
		return s.Submit(j)
	}
	if err := submit(0); err != nil {
		t.Fatal(err)
	}
	<-started // worker busy
	for i := 1; i <= 2; i++ {
		if err := submit(i); err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	if err := submit(3); !errors.Is(err, bot.ErrBusy) {
		t.Fatalf("full queue: err = %v, want ErrBusy", err)
	}
	close(release)
	for range 3 {
		if res := r.next(t); res.Err != nil {
			t.Error(res.Err)
		}
	}
}

func TestRateLimits(t *testing.T) {
	now := time.Unix(0, 0)
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	s.UserRate, s.UserBurst = rate.Every(10*time.Second), 2
	s.ChatRate, s.ChatBurst = rate.Every(time.Second), 3
	s.Now = func() time.Time { return now }
	startService(t, s)
	r := newResults()
	job := photoJob(r, "u1")
	for i := range 2 {
		if err := s.Submit(job); err != nil {
			t.Fatalf("photo %d: %v", i, err)
		}
	}
	err := s.Submit(job)
	var rl *bot.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, bot.ErrRateLimited) || rl.Scope != "user" || rl.RetryAfter != 10*time.Second {
		t.Fatalf("third photo: err = %v", err)
	}
	if msg := bot.UserMessage(err); !strings.Contains(msg, "10 seconds") {
		t.Errorf("message %q", msg)
	}
	// Group: three users share the chat's burst of 3.
	for i, u := range []string{"a", "b", "c", "d"} {
		j := photoJob(r, u)
		j.Group, j.ChatID = true, "g"
		err := s.Submit(j)
		if i < 3 && err != nil {
			t.Fatalf("user %s: %v", u, err)
		}
		if i == 3 && (!errors.As(err, &rl) || rl.Scope != "chat") {
			t.Fatalf("fourth user in chat: %v", err)
		}
	}
	// The refused chat job must not have cost user d a token.
	j := photoJob(r, "d")
	if err := s.Submit(j); err != nil {
		t.Fatalf("user d in private: %v", err)
	}
	for range 6 {
		r.next(t)
	}
}

func TestShutdownDrainsAcceptedJobs(t *testing.T) {
	release := make(chan struct{})
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		<-release
		return bottest.DefaultDescription, nil
	}}
	s := newService(d, &bottest.Refiner{}, nil)
	s.Workers, s.QueueSize = 2, 10
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	r := newResults()
	for i := range 6 {
		if err := s.Submit(photoJob(r, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error)
	go func() { done <- s.Shutdown(context.Background()) }()
	time.Sleep(20 * time.Millisecond)
	if err := s.Submit(photoJob(r, "late")); !errors.Is(err, bot.ErrStopped) {
		t.Errorf("submit during shutdown: %v, want ErrStopped", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 6 {
		t.Fatalf("delivered %d, want 6", len(r.got))
	}
	for _, res := range r.got {
		if res.Err != nil {
			t.Error(res.Err)
		}
	}
}

func TestShutdownGraceExpiredStillDelivers(t *testing.T) {
	d := &bottest.Describer{DescribeFunc: func(ctx context.Context, img []byte) (bot.Description, error) {
		<-ctx.Done()
		return bot.Description{}, ctx.Err()
	}}
	s := newService(d, &bottest.Refiner{}, nil)
	s.Workers, s.QueueSize = 1, 10
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	r := newResults()
	for i := range 3 {
		if err := s.Submit(photoJob(r, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	if len(r.got) != 3 {
		t.Fatalf("delivered %d, want 3", len(r.got))
	}
	for _, res := range r.got {
		if !errors.Is(res.Err, bot.ErrStopped) {
			t.Errorf("Err = %v, want ErrStopped", res.Err)
		}
	}
}

func TestJobErrorsBecomeUserMessages(t *testing.T) {
	tests := []struct {
		name     string
		fetch    func(context.Context) ([]byte, error)
		describe func(context.Context, []byte) (bot.Description, error)
		want     error
		wantText string
	}{
		{"fetch too large", func(context.Context) ([]byte, error) { return nil, &bot.FileTooLargeError{Limit: 20 << 20} }, nil, bot.ErrFileTooLarge, "20 MB"},
		{"empty download", func(context.Context) ([]byte, error) { return nil, nil }, nil, bot.ErrEmptyImage, "empty"},
		{"not an image", nil, func(context.Context, []byte) (bot.Description, error) {
			return bot.Description{}, fmt.Errorf("decode: %w", bot.ErrNotImage)
		}, bot.ErrNotImage, "JPEG"},
		{"describer panics", nil, func(context.Context, []byte) (bot.Description, error) { panic("boom") }, nil, "Sorry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &bottest.Describer{DescribeFunc: tt.describe}
			s := newService(d, &bottest.Refiner{}, nil)
			s.Workers = 1
			startService(t, s)
			r := newResults()
			j := photoJob(r, "1")
			if tt.fetch != nil {
				j.Fetch = tt.fetch
			}
			if err := s.Submit(j); err != nil {
				t.Fatal(err)
			}
			res := r.next(t)
			if res.Err == nil || (tt.want != nil && !errors.Is(res.Err, tt.want)) {
				t.Fatalf("Err = %v, want %v", res.Err, tt.want)
			}
			msg := bot.UserMessage(res.Err)
			if !strings.Contains(msg, tt.wantText) || strings.Contains(msg, "boom") {
				t.Errorf("message %q", msg)
			}
		})
	}
}

func TestSubmitBeforeStart(t *testing.T) {
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	r := newResults()
	if err := s.Submit(photoJob(r, "1")); !errors.Is(err, bot.ErrStopped) {
		t.Errorf("err = %v, want ErrStopped", err)
	}
	if err := s.Submit(bot.Job{}); err == nil {
		t.Error("job without callbacks accepted")
	}
}

func TestRunShutsDownOnCancel(t *testing.T) {
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	r := newResults()
	deadline := time.Now().Add(5 * time.Second)
	for s.Submit(photoJob(r, "1")) != nil {
		if time.Now().After(deadline) {
			t.Fatal("service never started")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(r.got) != 1 {
		t.Errorf("delivered %d, want 1", len(r.got))
	}
}

// blockingRefiner holds every Refine until release is closed (or the job's
// context ends), and reports each call on started.
type blockingRefiner struct {
	started chan bot.RefineRequest
	release chan struct{}
}

func newBlockingRefiner() *blockingRefiner {
	return &blockingRefiner{started: make(chan bot.RefineRequest, 100), release: make(chan struct{})}
}

func (b *blockingRefiner) Refine(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	b.started <- req
	select {
	case <-b.release:
		return bottest.Render(req), nil
	case <-ctx.Done():
		return bot.Post{}, ctx.Err()
	}
}

// waitN receives n values from ch, failing the test if they do not come
// (a hang, not a speed assumption: nothing else can send them).
func waitN[T any](t *testing.T, ch <-chan T, n int, what string) {
	t.Helper()
	for i := range n {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d %s", i, n, what)
		}
	}
}

// A slow LLM does not hold the captioning workers: with one worker and
// every refine blocked, all photos are still captioned, and as many refine
// at once as RefineWorkers allows.
func TestSlowRefinerDoesNotStallCaptioning(t *testing.T) {
	described := make(chan struct{}, 100)
	d := &bottest.Describer{DescribeFunc: func(context.Context, []byte) (bot.Description, error) {
		described <- struct{}{}
		return bottest.DefaultDescription, nil
	}}
	rf := newBlockingRefiner()
	s := newService(d, rf, &bottest.Preferences{})
	s.Workers, s.RefineWorkers = 1, 3
	s.MaxQueueWait = time.Hour
	startService(t, s)
	r := newResults()
	for i := range 5 {
		if err := s.Submit(photoJob(r, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	waitN(t, described, 5, "photos captioned while the refiner is blocked")
	waitN(t, rf.started, 3, "refines started")
	select {
	case <-rf.started:
		t.Fatal("a fourth refine started with RefineWorkers = 3")
	default:
	}
	close(rf.release)
	for range 5 {
		if res := r.next(t); res.Err != nil || res.Post.Body == "" {
			t.Errorf("result %+v", res)
		}
	}
}

// A photo that waited MaxQueueWait for a refine slot gets the fallback
// post at once, while the slow refine is still running.
func TestQueueWaitFallsBack(t *testing.T) {
	rf := newBlockingRefiner()
	defer close(rf.release)
	fallback := &bottest.Refiner{RefineFunc: func(_ context.Context, req bot.RefineRequest) (bot.Post, error) {
		p := bottest.Render(req)
		p.WrittenBy = "offline"
		return p, nil
	}}
	now := time.Unix(1000, 0) // frozen: the captioning wait is zero
	s := newService(&bottest.Describer{}, rf, &bottest.Preferences{})
	s.Workers, s.RefineWorkers = 2, 1
	s.MaxQueueWait = time.Millisecond // the refine-slot wait runs on real time
	s.Fallback = fallback
	s.Now = func() time.Time { return now }
	startService(t, s)
	r := newResults()
	if err := s.Submit(photoJob(r, "1")); err != nil {
		t.Fatal(err)
	}
	waitN(t, rf.started, 1, "refines started")
	if err := s.Submit(photoJob(r, "2")); err != nil {
		t.Fatal(err)
	}
	res := r.next(t) // photo 1's refine holds the only slot until the test ends
	if res.Err != nil || res.Post.WrittenBy != "offline" || len(fallback.Requests()) != 1 {
		t.Fatalf("result %+v, fallback calls %d: want the fallback post", res, len(fallback.Requests()))
	}
}

// A photo still waiting for a captioning worker after MaxQueueWait is
// answered ErrBusy without being captioned.
func TestQueueWaitBusy(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	block := make(chan struct{})
	entered := make(chan struct{}, 10)
	d := &bottest.Describer{DescribeFunc: func(context.Context, []byte) (bot.Description, error) {
		entered <- struct{}{}
		<-block
		return bottest.DefaultDescription, nil
	}}
	s := newService(d, &bottest.Refiner{}, &bottest.Preferences{})
	s.Workers, s.MaxQueueWait = 1, 30*time.Second
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	startService(t, s)
	r := newResults()
	if err := s.Submit(photoJob(r, "1")); err != nil {
		t.Fatal(err)
	}
	waitN(t, entered, 1, "photos captioning")
	if err := s.Submit(photoJob(r, "2")); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	close(block)
	got := map[string]error{}
	for range 2 {
		res := r.next(t)
		got[res.Post.Body] = res.Err
	}
	if d.Calls() != 1 {
		t.Errorf("describe calls = %d, want 1 (the late photo is not captioned)", d.Calls())
	}
	busy := 0
	for _, err := range got {
		if errors.Is(err, bot.ErrBusy) {
			busy++
		}
	}
	if busy != 1 {
		t.Errorf("results %v: want one ErrBusy", got)
	}
}
