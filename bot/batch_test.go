package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeBatch describes a photo as a label of its bytes; "bad" is not an
// image. It records each batch and the batch context, and blocks while
// hold is non-nil until hold is closed.
type fakeBatch struct {
	mu      sync.Mutex
	batches [][]string
	ctxs    []context.Context
	hold    chan struct{}
	started chan struct{} // receives once per batch, when given
}

func (f *fakeBatch) Describe(ctx context.Context, img []byte) (Description, error) {
	return Description{Caption: "alone " + string(img)}, nil
}

func (f *fakeBatch) DescribeBatch(ctx context.Context, photos [][]byte) ([]Description, []error) {
	names := make([]string, len(photos))
	for i, p := range photos {
		names[i] = string(p)
	}
	f.mu.Lock()
	f.batches = append(f.batches, names)
	f.ctxs = append(f.ctxs, ctx)
	f.mu.Unlock()
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
		}
	}
	descs := make([]Description, len(photos))
	errs := make([]error, len(photos))
	for i, n := range names {
		if n == "bad" {
			errs[i] = fmt.Errorf("decode: %w", ErrNotImage)
			continue
		}
		descs[i] = Description{Caption: "batched " + n}
	}
	return descs, errs
}

// fakeTimer is a gather timer the test fires by hand.
type fakeTimer struct {
	asked chan time.Duration
	fire  chan time.Time
}

func newFakeTimer() *fakeTimer {
	return &fakeTimer{asked: make(chan time.Duration, 100), fire: make(chan time.Time)}
}

func (t *fakeTimer) after(d time.Duration) <-chan time.Time {
	t.asked <- d
	return t.fire
}

func startBatcher(t *testing.T, b *Batcher) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { b.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

type described struct {
	desc Description
	err  error
}

func describeAsync(b *Batcher, ctx context.Context, img string) chan described {
	ch := make(chan described, 1)
	go func() {
		d, err := b.Describe(ctx, []byte(img))
		ch <- described{d, err}
	}()
	return ch
}

// TestBatcherLonePhotoWaitBound: a lone photo waits for others only as long
// as the gather timer, which is never asked for more than MaxBatchWait (a
// longer Wait is capped), and is described once it fires.
func TestBatcherLonePhotoWaitBound(t *testing.T) {
	f := &fakeBatch{}
	b := NewBatcher(f, 4)
	b.Wait = time.Second // capped
	timer := newFakeTimer()
	b.After = timer.after
	startBatcher(t, b)
	res := describeAsync(b, context.Background(), "dog")
	if d := <-timer.asked; d != MaxBatchWait {
		t.Fatalf("gather timer of %v, want MaxBatchWait (%v)", d, MaxBatchWait)
	}
	select {
	case r := <-res:
		t.Fatalf("described before the gather timer fired: %+v", r)
	default:
	}
	f.mu.Lock()
	if len(f.batches) != 0 {
		t.Fatalf("a batch ran before the gather timer fired: %v", f.batches)
	}
	f.mu.Unlock()
	timer.fire <- time.Time{}
	r := <-res
	if r.err != nil || r.desc.Caption != "batched dog" {
		t.Fatalf("Describe = %+v, %v", r.desc, r.err)
	}
}

// TestBatcherFullBatchRunsWithoutWaiting: a batch that reaches Max runs at
// once, before the gather timer fires; good and bad photos in it each get
// their own result; and no job is lost or mixed up.
func TestBatcherFullBatchRunsWithoutWaiting(t *testing.T) {
	f := &fakeBatch{}
	b := NewBatcher(f, 3)
	timer := newFakeTimer() // never fired
	b.After = timer.after
	startBatcher(t, b)
	names := []string{"a", "bad", "c"}
	var res []chan described
	for _, n := range names {
		res = append(res, describeAsync(b, context.Background(), n))
	}
	for i, n := range names {
		r := <-res[i]
		if n == "bad" {
			if !errors.Is(r.err, ErrNotImage) {
				t.Errorf("%s: %v, want ErrNotImage", n, r.err)
			}
			continue
		}
		if r.err != nil || r.desc.Caption != "batched "+n {
			t.Errorf("%s: %+v, %v", n, r.desc, r.err)
		}
	}
	if len(f.batches) != 1 || len(f.batches[0]) != 3 {
		t.Errorf("batches %v, want one of 3", f.batches)
	}
}

// TestBatcherManyCallers: many workers at once, each photo answered with
// its own description, in batches of at most Max.
func TestBatcherManyCallers(t *testing.T) {
	f := &fakeBatch{}
	b := NewBatcher(f, 4)
	b.Concurrent = 2
	startBatcher(t, b) // real timer: batches close after MaxBatchWait or at 4
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			name := fmt.Sprint("photo", i)
			d, err := b.Describe(context.Background(), []byte(name))
			if err != nil || d.Caption != "batched "+name {
				errs <- fmt.Errorf("%s: %+v, %v", name, d, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := 0
	for _, batch := range f.batches {
		if len(batch) > 4 {
			t.Errorf("batch of %d", len(batch))
		}
		total += len(batch)
	}
	if total != 100 {
		t.Errorf("%d photos described, want 100", total)
	}
}

// TestBatcherCancel: a caller whose context ends returns its error at once
// while the batch goes on for the others; the batch's context is canceled
// only when every caller in it has gone.
func TestBatcherCancel(t *testing.T) {
	f := &fakeBatch{hold: make(chan struct{}), started: make(chan struct{}, 1)}
	b := NewBatcher(f, 2)
	b.After = newFakeTimer().after
	startBatcher(t, b)
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithTimeout(context.Background(), time.Hour)
	defer cancelB()
	resA := describeAsync(b, ctxA, "a")
	resB := describeAsync(b, ctxB, "b")
	<-f.started
	cancelA()
	if r := <-resA; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("canceled caller got %+v, %v", r.desc, r.err)
	}
	if err := f.ctxs[0].Err(); err != nil {
		t.Fatalf("batch context %v with a caller still waiting", err)
	}
	close(f.hold)
	if r := <-resB; r.err != nil || r.desc.Caption != "batched b" {
		t.Fatalf("other caller got %+v, %v", r.desc, r.err)
	}

	// Both callers gone: the batch is asked to stop.
	f.hold = make(chan struct{})
	ctxC, cancelC := context.WithCancel(context.Background())
	ctxD, cancelD := context.WithCancel(context.Background())
	resC, resD := describeAsync(b, ctxC, "c"), describeAsync(b, ctxD, "d")
	<-f.started
	cancelC()
	cancelD()
	<-resC
	<-resD
	f.mu.Lock()
	bctx := f.ctxs[1]
	f.mu.Unlock()
	select {
	case <-bctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("batch context not canceled after every caller left")
	}
}

// TestBatcherOff: Max below 2 describes each photo alone, without Run.
func TestBatcherOff(t *testing.T) {
	b := NewBatcher(&fakeBatch{}, 1)
	d, err := b.Describe(context.Background(), []byte("x"))
	if err != nil || d.Caption != "alone x" {
		t.Fatalf("Describe = %+v, %v", d, err)
	}
}

// TestBatcherPanic: a panicking describer fails the batch's photos, not the
// process.
func TestBatcherPanic(t *testing.T) {
	b := NewBatcher(panicBatch{}, 2)
	b.Wait = time.Microsecond
	startBatcher(t, b)
	if _, err := b.Describe(context.Background(), []byte("x")); err == nil {
		t.Fatal("no error from a panicking describer")
	}
}

type panicBatch struct{}

func (panicBatch) Describe(context.Context, []byte) (Description, error) { panic("describe") }
func (panicBatch) DescribeBatch(context.Context, [][]byte) ([]Description, []error) {
	panic("describe batch")
}
