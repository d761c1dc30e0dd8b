package bot

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// BatchDescriber describes several photos at once, each with its own error
// (captioner.Captioner.DescribeBatch): one bad photo never fails the others.
type BatchDescriber interface {
	DescribeBatch(ctx context.Context, photos [][]byte) ([]Description, []error)
}

// MaxBatchWait is the longest Batcher holds a photo back waiting for others.
const MaxBatchWait = 5 * time.Millisecond

// Batcher is a Describer that gathers the photos being described at the same
// moment (by the Service's workers) into DescribeBatch calls: the first photo
// of a batch waits at most Wait for others, and a batch runs as soon as it
// holds Max photos. Each caller keeps its own context: when it is done the
// caller returns its error at once, and the batch is asked to stop only once
// every photo in it has been given up. Start it with Run.
type Batcher struct {
	// Max is the most photos per batch; below 2, Describe describes each
	// photo alone.
	Max int
	// Wait is how long the first photo of a batch waits for more; it is
	// capped at MaxBatchWait.
	Wait time.Duration
	// Concurrent is the number of batches described at once; zero means 1.
	Concurrent int
	// After makes the gather timer; tests replace it (time.After when nil).
	After func(time.Duration) <-chan time.Time

	d    BatchDescriber
	one  Describer
	reqs chan *batchReq
}

type batchReq struct {
	ctx  context.Context
	img  []byte
	done chan batchRes // buffered: the batch never blocks on a caller gone
}

type batchRes struct {
	desc Description
	err  error
}

// NewBatcher returns a Batcher over d, which also describes photos one at a
// time when batching is off.
func NewBatcher(d interface {
	Describer
	BatchDescriber
}, max int) *Batcher {
	return &Batcher{Max: max, Wait: MaxBatchWait, d: d, one: d, reqs: make(chan *batchReq)}
}

var _ Describer = (*Batcher)(nil)

// Describe describes img in the next batch, or alone when Max < 2.
func (b *Batcher) Describe(ctx context.Context, img []byte) (Description, error) {
	if b.Max < 2 {
		return b.one.Describe(ctx, img)
	}
	r := &batchReq{ctx: ctx, img: img, done: make(chan batchRes, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return Description{}, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.desc, res.err
	case <-ctx.Done():
		return Description{}, ctx.Err()
	}
}

func (b *Batcher) wait() time.Duration { return min(max(b.Wait, 0), MaxBatchWait) }

func (b *Batcher) after(d time.Duration) <-chan time.Time {
	if b.After != nil {
		return b.After(d)
	}
	return time.After(d)
}

// Run gathers and describes batches until ctx is done, then waits for the
// batches in progress. Describe calls made after it returns block until
// their context is done.
func (b *Batcher) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, max(b.Concurrent, 1))
	for {
		var first *batchReq
		select {
		case first = <-b.reqs:
		case <-ctx.Done():
			return nil
		}
		batch := []*batchReq{first}
		timer := b.after(b.wait())
	gather:
		for len(batch) < b.Max {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			case <-timer:
				break gather
			case <-ctx.Done():
				break gather
			}
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			b.describe(batch)
		})
	}
}

// describe runs one batch under a context that is canceled once every
// caller's context is done.
func (b *Batcher) describe(batch []*batchReq) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var live atomic.Int32
	live.Store(int32(len(batch)))
	for _, r := range batch {
		stop := context.AfterFunc(r.ctx, func() {
			if live.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	photos := make([][]byte, len(batch))
	for i, r := range batch {
		photos[i] = r.img
	}
	descs, errs := b.describeBatch(ctx, photos)
	for i, r := range batch {
		err := errs[i]
		if err != nil && r.ctx.Err() != nil {
			err = r.ctx.Err()
		}
		r.done <- batchRes{descs[i], err}
	}
}

// describeBatch calls DescribeBatch, turning a panic (or a describer that
// answers the wrong number of photos) into every photo's error: the callers'
// goroutines cannot recover a panic here.
func (b *Batcher) describeBatch(ctx context.Context, photos [][]byte) (descs []Description, errs []error) {
	defer func() {
		p := recover()
		if p == nil && len(descs) == len(photos) && len(errs) == len(photos) {
			return
		}
		err := fmt.Errorf("describe batch: %d answers for %d photos", len(errs), len(photos))
		if p != nil {
			err = fmt.Errorf("describe batch panicked: %v\n%s", p, debug.Stack())
		}
		descs, errs = make([]Description, len(photos)), make([]error, len(photos))
		for i := range errs {
			errs[i] = err
		}
	}()
	return b.d.DescribeBatch(ctx, photos)
}
