package captioner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

// committedPhotos reads every photo in testdata/photos.
func committedPhotos(t testing.TB) (names []string, data [][]byte) {
	t.Helper()
	paths, err := filepath.Glob("../testdata/photos/*.jpg")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no committed photos: %v", err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		names, data = append(names, filepath.Base(p)), append(data, b)
	}
	return names, data
}

// TestDescribeBatchMatchesDescribe: the batched path gives the captions,
// labels and objects Describe gives one photo at a time, with bad photos in
// the batch failing alone. Batched matrix products may round differently,
// so scores and confidences agree to 1e-4, captions exactly.
func TestDescribeBatchMatchesDescribe(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	names, photos := committedPhotos(t)
	// Bad photos between the good ones: not an image, a truncated JPEG.
	bad := map[int]error{1: bot.ErrNotImage, 3: bot.ErrCorruptImage}
	batch := slices.Clone(photos)
	batch = slices.Insert(batch, 1, []byte("not a photo"))
	batch = slices.Insert(batch, 3, []byte{0xff, 0xd8, 0xff})
	descs, errs := c.DescribeBatch(context.Background(), batch)
	if len(descs) != len(batch) || len(errs) != len(batch) {
		t.Fatalf("%d descriptions and %d errors for %d photos", len(descs), len(errs), len(batch))
	}
	good := 0
	for i := range batch {
		if want, isBad := bad[i]; isBad {
			_, alone := c.Describe(context.Background(), batch[i])
			if !errors.Is(errs[i], want) || errs[i].Error() != alone.Error() {
				t.Errorf("photo %d (bad): error %v, want %v as Describe gives (%v)", i, errs[i], want, alone)
			}
			continue
		}
		name := names[good]
		want, err := c.Describe(context.Background(), photos[good])
		good++
		if err != nil {
			t.Fatalf("%s: Describe: %v", name, err)
		}
		got := descs[i]
		if errs[i] != nil {
			t.Errorf("%s: batched error %v", name, errs[i])
			continue
		}
		t.Logf("%s: %q (%.4f) batched %q (%.4f)", name, want.Caption, want.Confidence, got.Caption, got.Confidence)
		if got.Caption != want.Caption || got.RawCaption != want.RawCaption {
			t.Errorf("%s: batched caption %q (raw %q), alone %q (raw %q)", name, got.Caption, got.RawCaption, want.Caption, want.RawCaption)
		}
		if !slices.Equal(got.Subjects, want.Subjects) {
			t.Errorf("%s: batched subjects %v, alone %v", name, got.Subjects, want.Subjects)
		}
		if math.Abs(got.Confidence-want.Confidence) > 1e-4 {
			t.Errorf("%s: batched confidence %v, alone %v", name, got.Confidence, want.Confidence)
		}
		if len(got.Labels) != len(want.Labels) {
			t.Fatalf("%s: batched labels %v, alone %v", name, got.Labels, want.Labels)
		}
		for j := range got.Labels {
			if got.Labels[j].Label != want.Labels[j].Label || math.Abs(got.Labels[j].Score-want.Labels[j].Score) > 1e-4 {
				t.Errorf("%s: batched labels %v, alone %v", name, got.Labels, want.Labels)
				break
			}
		}
		if !slices.Equal(got.Objects, want.Objects) {
			t.Errorf("%s: batched objects %v, alone %v", name, got.Objects, want.Objects)
		}
		if got.EncoderTime <= 0 || got.DecodeTime <= 0 || got.Total < got.EncoderTime {
			t.Errorf("%s: timings decode %v encoder %v total %v", name, got.DecodeTime, got.EncoderTime, got.Total)
		}
	}
}

// TestDescribeBatchAllBad: a batch with no readable photo gives each its
// error and no panic on the empty encoder batch.
func TestDescribeBatchAllBad(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	_, errs := c.DescribeBatch(context.Background(), [][]byte{[]byte("x"), nil})
	for i, want := range []error{bot.ErrNotImage, bot.ErrEmptyImage} {
		if !errors.Is(errs[i], want) {
			t.Errorf("photo %d: %v, want %v", i, errs[i], want)
		}
	}
}

// TestDescribeBatchCanceled: a canceled context fails every photo with the
// context's error.
func TestDescribeBatchCanceled(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	_, photos := committedPhotos(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, errs := c.DescribeBatch(ctx, photos)
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("photo %d: %v, want context.Canceled", i, err)
		}
	}
}

// BenchmarkDescribeBatch compares 8 photos (the committed ones, repeated)
// described one at a time with Describe against DescribeBatch in batches of
// 4 and 8, on one 1-thread session (ns/op is per 8 photos).
func BenchmarkDescribeBatch(b *testing.B) {
	c := newTestCaptioner(b, Options{Sessions: 1, IntraOpThreads: 1})
	_, committed := committedPhotos(b)
	var photos [][]byte
	for len(photos) < 8 {
		photos = append(photos, committed...)
	}
	photos = photos[:8]
	ctx := context.Background()
	b.Run("alone", func(b *testing.B) {
		for b.Loop() {
			for _, p := range photos {
				if _, err := c.Describe(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, n := range []int{4, 8} {
		b.Run(fmt.Sprint("batch", n), func(b *testing.B) {
			for b.Loop() {
				for s := 0; s < len(photos); s += n {
					_, errs := c.DescribeBatch(ctx, photos[s:s+n])
					if err := errors.Join(errs...); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
