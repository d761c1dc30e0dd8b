package captioner

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

// newTestCaptioner loads the committed encoder, or skips when the model or
// ONNX Runtime is missing.
func newTestCaptioner(t testing.TB, opts Options) *Captioner {
	t.Helper()
	if _, err := DefaultModelDir(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := FindRuntimeLibrary(opts.RuntimeLibrary); err != nil {
		t.Skipf("skipping: %v", err)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func TestFindRuntimeLibrary(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	_, err := FindRuntimeLibrary(missing)
	if !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "scripts/setup.sh") {
		t.Errorf("configured missing library: error %v, want ErrNoRuntime naming the path and scripts/setup.sh", err)
	}

	t.Setenv(RuntimeLibraryEnv, missing)
	if _, err := FindRuntimeLibrary(""); !errors.Is(err, ErrNoRuntime) || !strings.Contains(err.Error(), RuntimeLibraryEnv) {
		t.Errorf("env names a missing library: error %v, want ErrNoRuntime naming %s", err, RuntimeLibraryEnv)
	}

	present := filepath.Join(t.TempDir(), "libort.so")
	if err := os.WriteFile(present, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(RuntimeLibraryEnv, present)
	if got, err := FindRuntimeLibrary(""); err != nil || got != present {
		t.Errorf("FindRuntimeLibrary from env = %q, %v; want %q", got, err, present)
	}
	// The config wins over the environment.
	if got, err := FindRuntimeLibrary(present + ".cfg"); !errors.Is(err, ErrNoRuntime) {
		t.Errorf("config naming a missing file = %q, %v; want ErrNoRuntime", got, err)
	}
}

func TestNewMissingModel(t *testing.T) {
	_, err := New(Options{ModelDir: t.TempDir()})
	if !errors.Is(err, ErrNoModel) {
		t.Fatalf("New with an empty model dir: %v, want ErrNoModel", err)
	}
}

func TestTopLabels(t *testing.T) {
	names := []string{"background", "a", "b", "c", "d"}
	got := topLabels([]float32{0.9, 0.01, 0.05, 0.03, 0.01}, names, 3)
	want := []bot.Label{{Label: "b", Score: float64(float32(0.05))}, {Label: "c", Score: float64(float32(0.03))}, {Label: "a", Score: float64(float32(0.01))}}
	if !slices.Equal(got, want) {
		t.Errorf("topLabels = %v, want %v", got, want)
	}
	if got := topLabels([]float32{1, 0}, names[:2], 5); len(got) != 1 {
		t.Errorf("topLabels with k beyond the classes = %v, want 1 label", got)
	}
}

// TestDescribePhotos pins the top-1 ImageNet class of the committed photos:
// a faithful conversion of MobileNetV2 agrees with the original model.
func TestDescribePhotos(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	for _, tc := range []struct {
		photo string
		top1  []string
	}{
		{"dog.jpg", []string{"German shepherd", "malamute"}},
		{"eagle.jpg", []string{"kite", "bald eagle"}},
	} {
		d, err := c.Describe(context.Background(), readPhoto(t, tc.photo))
		if err != nil {
			t.Fatalf("%s: %v", tc.photo, err)
		}
		t.Logf("%s: %v", tc.photo, d.Labels)
		if len(d.Labels) != 5 {
			t.Fatalf("%s: %d labels, want 5", tc.photo, len(d.Labels))
		}
		if !slices.Contains(tc.top1, d.Labels[0].Label) {
			t.Errorf("%s: top-1 %q, want one of %q (labels %v)", tc.photo, d.Labels[0].Label, tc.top1, d.Labels)
		}
		for i := 1; i < len(d.Labels); i++ {
			if d.Labels[i].Score > d.Labels[i-1].Score {
				t.Errorf("%s: labels not best first: %v", tc.photo, d.Labels)
			}
		}
		if d.EncoderTime <= 0 || d.Total < d.EncoderTime {
			t.Errorf("%s: timings encoder %v total %v", tc.photo, d.EncoderTime, d.Total)
		}
		if (c.decoder == nil) != (d.Caption == "") {
			t.Errorf("%s: caption %q with decoder loaded = %v", tc.photo, d.Caption, c.decoder != nil)
		}
	}
}

func TestDescribeBadPhoto(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	_, err := c.Describe(context.Background(), []byte("not a photo"))
	if !errors.Is(err, bot.ErrNotImage) {
		t.Fatalf("Describe(text) = %v, want ErrNotImage", err)
	}
}

// TestEncodeImagesBatch: a batch gives the same encodings as one image at a
// time, with the contract's sizes.
func TestEncodeImagesBatch(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	imgs := []image.Image{
		mustDecode(t, readPhoto(t, "dog.jpg")),
		mustDecode(t, readPhoto(t, "eagle.jpg")),
		mustDecode(t, readTestdata(t, "quadrants.png")),
	}
	batch, err := c.EncodeImages(context.Background(), imgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(batch) != len(imgs) {
		t.Fatalf("%d encodings for %d images", len(batch), len(imgs))
	}
	for i, img := range imgs {
		one, err := c.EncodeImages(context.Background(), []image.Image{img})
		if err != nil {
			t.Fatal(err)
		}
		b := batch[i]
		if len(b.Pooled) != 1280 || len(b.Spatial) != 7*7*1280 {
			t.Fatalf("image %d: pooled %d spatial %d values, want 1280 and 62720", i, len(b.Pooled), len(b.Spatial))
		}
		if d := maxAbsDiff(b.Pooled, one[0].Pooled); d > 1e-4 {
			t.Errorf("image %d: pooled differs between batch and single by %g", i, d)
		}
		if d := maxAbsDiff(b.Spatial, one[0].Spatial); d > 1e-4 {
			t.Errorf("image %d: spatial differs between batch and single by %g", i, d)
		}
		if b.Labels[0] != one[0].Labels[0] && b.Labels[0].Label != one[0].Labels[0].Label {
			t.Errorf("image %d: top label %v in batch, %v alone", i, b.Labels[0], one[0].Labels[0])
		}
	}
	// Pooled is the mean of the spatial map over its 7×7 cells.
	var mean float32
	for cell := 0; cell < 49; cell++ {
		mean += batch[0].Spatial[cell*1280]
	}
	if d := mean/49 - batch[0].Pooled[0]; d > 1e-3 || d < -1e-3 {
		t.Errorf("pooled[0] = %g, mean of spatial channel 0 = %g", batch[0].Pooled[0], mean/49)
	}
}

// TestDescribeConcurrent runs many callers on a small pool (run with -race).
func TestDescribeConcurrent(t *testing.T) {
	c := newTestCaptioner(t, Options{Sessions: 2, IntraOpThreads: 1})
	photos := [][]byte{readPhoto(t, "dog.jpg"), readPhoto(t, "eagle.jpg")}
	want := make([]string, len(photos))
	for i, p := range photos {
		d, err := c.Describe(context.Background(), p)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = d.Labels[0].Label
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i := g % len(photos)
			d, err := c.Describe(context.Background(), photos[i])
			if err == nil && d.Labels[0].Label != want[i] {
				err = errors.New("concurrent call got " + d.Labels[0].Label + ", want " + want[i])
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestDescribeCanceled(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// All sessions busy: a canceled caller must not wait for one.
	s := <-c.enc.free
	defer func() { c.enc.free <- s }()
	_, err := c.Describe(ctx, readPhoto(t, "dog.jpg"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Describe with a canceled context = %v, want context.Canceled", err)
	}
}

// BenchmarkEncoder measures the network alone (preprocessed input), per
// image, at several batch sizes, in one session with one thread and with two
// (spinning, ONNX Runtime's default, and not), and the int8 copy
// (Options.Encoder); ms/img and img/s are the model card's numbers.
func BenchmarkEncoder(b *testing.B) {
	for _, v := range []struct {
		name string
		opts Options
	}{
		{"threads=1", Options{Sessions: 1, IntraOpThreads: 1}},
		{"threads=2", Options{Sessions: 1, IntraOpThreads: 2}},
		{"threads=2-spin", Options{Sessions: 1, IntraOpThreads: 2, SpinWait: true}},
		{"int8,threads=1", Options{Sessions: 1, IntraOpThreads: 1, Encoder: EncoderInt8}},
		{"int8,threads=2", Options{Sessions: 1, IntraOpThreads: 2, Encoder: EncoderInt8}},
	} {
		b.Run(v.name, func(b *testing.B) { benchmarkEncoder(b, v.opts) })
	}
}

func benchmarkEncoder(b *testing.B, opts Options) {
	c := newTestCaptioner(b, opts)
	one := make([]float32, InputLen)
	Preprocess(mustDecode(b, readPhoto(b, "dog.jpg")), one)
	for _, n := range []int{1, 2, 4, 8, 16, 32} {
		input := make([]float32, 0, n*InputLen)
		for range n {
			input = append(input, one...)
		}
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			if _, _, err := c.encode(context.Background(), input, n); err != nil { // warm up
				b.Fatal(err)
			}
			cpu := processCPU()
			for b.Loop() {
				if _, _, err := c.encode(context.Background(), input, n); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu, b.N*n)
			perImage := b.Elapsed().Seconds() / float64(b.N*n)
			b.ReportMetric(perImage*1e3, "ms/img")
			b.ReportMetric(1/perImage, "img/s")
		})
	}
}

// BenchmarkEncoderConcurrent is the encoder's throughput with two callers
// encoding batch-1 images at once, as two bot workers do, for each way of
// sharing 2 cores: one session with 2 threads (spinning or not), two
// single-threaded sessions. ms/img is wall time per image of all callers
// together; cpu-ms/img is what the cores paid for it.
func BenchmarkEncoderConcurrent(b *testing.B) {
	for _, v := range []struct {
		name string
		opts Options
	}{
		{"sessions=1,threads=2", Options{Sessions: 1, IntraOpThreads: 2}},
		{"sessions=1,threads=2-spin", Options{Sessions: 1, IntraOpThreads: 2, SpinWait: true}},
		{"sessions=2,threads=1", Options{Sessions: 2, IntraOpThreads: 1}},
	} {
		b.Run(v.name, func(b *testing.B) {
			c := newTestCaptioner(b, v.opts)
			input := make([]float32, InputLen)
			Preprocess(mustDecode(b, readPhoto(b, "dog.jpg")), input)
			const callers = 2
			var images sync.WaitGroup
			cpu := processCPU()
			for b.Loop() {
				for range callers {
					images.Go(func() {
						if _, _, err := c.encode(context.Background(), input, 1); err != nil {
							b.Error(err)
						}
					})
				}
				images.Wait()
			}
			reportCPU(b, cpu, b.N*callers)
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N*callers), "ms/img")
		})
	}
}

// BenchmarkDescribe is the whole path for one photo at batch 1: decode,
// preprocess, encoder, labels (one ONNX Runtime thread, so cpu-ms/img is
// the latency of an idle machine).
func BenchmarkDescribe(b *testing.B) {
	c := newTestCaptioner(b, Options{IntraOpThreads: 1})
	data := readPhoto(b, "dog.jpg")
	if _, err := c.Describe(context.Background(), data); err != nil {
		b.Fatal(err)
	}
	cpu := processCPU()
	for b.Loop() {
		if _, err := c.Describe(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu, b.N)
	b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/img")
}
