package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

// fakeBatchDescriber is fakeDescriber with DescribeBatch, recording the
// batch sizes it was given.
type fakeBatchDescriber struct {
	fakeDescriber
	mu      sync.Mutex
	batches []int
}

func (f *fakeBatchDescriber) DescribeBatch(ctx context.Context, photos [][]byte) ([]bot.Description, []error) {
	f.mu.Lock()
	f.batches = append(f.batches, len(photos))
	f.mu.Unlock()
	descs := make([]bot.Description, len(photos))
	errs := make([]error, len(photos))
	for i, p := range photos {
		if err := ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		descs[i], errs[i] = f.Describe(ctx, p)
	}
	return descs, errs
}

// TestCaptionBatchMixed: with --batch 3, good and bad photos (unreadable
// content, an unreadable path) come out in input order, each bad one failing
// alone, and the describer gets batches of at most 3 readable photos.
func TestCaptionBatchMixed(t *testing.T) {
	f := &fakeBatchDescriber{}
	dp := describerDeps(f)
	dir := photoTree(t, map[string]string{
		"a.jpg": "alpha", "b.jpg": "bad", "c.jpg": "charlie", "d.jpg": "delta",
		"e.jpg": "bad", "f.jpg": "foxtrot", "g.jpg": "golf",
	})
	code, stdout, stderr := runCLI(dp, "caption", "--json", "--batch", "3", dir, dir+"/missing.jpg")
	if code != exitFailure {
		t.Errorf("exit %d, want %d (some photos failed)", code, exitFailure)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var line captionLine
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, line.Labels[0].Label)
	}
	if want := []string{"alpha", "charlie", "delta", "foxtrot", "golf"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("captioned %v, want %v", got, want)
	}
	for _, bad := range []string{"b.jpg", "e.jpg", "missing.jpg"} {
		if !strings.Contains(stderr, bad+":") {
			t.Errorf("stderr has no error for %s: %q", bad, stderr)
		}
	}
	total := 0
	for _, n := range f.batches {
		if n > 3 {
			t.Errorf("a batch of %d photos, want at most 3", n)
		}
		total += n
	}
	if total != 7 || len(f.batches) != 3 {
		t.Errorf("batches %v, want 3 batches holding the 7 readable files", f.batches)
	}
}

// TestCaptionBatchCanceled: a canceled run reports the interruption once
// and fails every photo.
func TestCaptionBatchCanceled(t *testing.T) {
	f := &fakeBatchDescriber{}
	dp := describerDeps(f)
	dir := photoTree(t, map[string]string{"a.jpg": "alpha", "b.jpg": "bravo", "c.jpg": "charlie"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb strings.Builder
	code := run(ctx, dp, []string{"caption", "--json", "--batch", "2", dir}, &out, &errb)
	if code == exitOK || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q; want a failure and no captions", code, out.String())
	}
	if strings.Count(errb.String(), "interrupted") != 1 {
		t.Errorf("stderr %q, want one interrupted line", errb.String())
	}
}

// TestCaptionBatchFlagRange: --batch outside 1..MaxBatch is a usage error.
func TestCaptionBatchFlagRange(t *testing.T) {
	_, dp := useFake(t)
	for _, n := range []string{"0", "33"} {
		if code, _, stderr := runCLI(dp, "caption", "--batch", n, "x.jpg"); code != exitUsage || !strings.Contains(stderr, "--batch") {
			t.Errorf("--batch %s: exit %d, stderr %q", n, code, stderr)
		}
	}
}

// TestWrapBatcher: captioner.batch ≥ 2 puts a bot.Batcher in front of a
// describer that can batch; otherwise the describer is used as it is.
func TestWrapBatcher(t *testing.T) {
	f := &fakeBatchDescriber{}
	for _, n := range []int{0, 1} {
		d, stop := wrapBatcher(f, captionerConfig{Batch: n})
		stop()
		if d != bot.Describer(f) {
			t.Errorf("batch %d: wrapped in %T, want the describer itself", n, d)
		}
	}
	plain := &fakeDescriber{}
	if d, stop := wrapBatcher(plain, captionerConfig{Batch: 4}); d != bot.Describer(plain) {
		t.Errorf("a describer without DescribeBatch wrapped in %T", d)
		stop()
	}
	d, stop := wrapBatcher(f, captionerConfig{Batch: 4, Sessions: 1})
	defer stop()
	desc, err := d.Describe(context.Background(), []byte("alpha"))
	if err != nil || desc.Labels[0].Label != "alpha" {
		t.Fatalf("Describe = %+v, %v", desc, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.batches) != 1 || f.batches[0] != 1 {
		t.Errorf("batches %v, want the lone photo in one DescribeBatch call", f.batches)
	}
}
