package captioner

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkEncoderLoad is the encoder's load time: one session with its
// warm-up run (newEncoder, what New pays per session), and the warm-up run
// alone (first-run ms), so session creation is the difference; from the
// model, and from ONNX Runtime's optimised copy (Options.OptimizedModelCache,
// the model's hash included).
func BenchmarkEncoderLoad(b *testing.B) {
	newTestCaptioner(b, Options{}) // skips without the model or ONNX Runtime; initialises the runtime
	dir, err := DefaultModelDir()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, EncoderFile)
	cache := b.TempDir()
	for _, v := range []struct {
		name string
		cfg  sessionConfig
	}{
		{"sessions=1,threads=1", sessionConfig{sessions: 1, threads: 1}},
		{"sessions=1,threads=2", sessionConfig{sessions: 1, threads: 2}},
		{"sessions=2,threads=1", sessionConfig{sessions: 2, threads: 1}}, // the default on 2 cores
		// From the optimised copy (written by the first load, outside the timing).
		{"sessions=1,threads=1-cached", sessionConfig{sessions: 1, threads: 1, cacheDir: cache}},
		{"sessions=2,threads=1-cached", sessionConfig{sessions: 2, threads: 1, cacheDir: cache}},
	} {
		if v.cfg.cacheDir != "" {
			e, err := newEncoder(path, v.cfg)
			if err != nil {
				b.Fatal(err)
			}
			e.close()
		}
		b.Run(v.name, func(b *testing.B) {
			var first time.Duration
			for b.Loop() {
				e, err := newEncoder(path, v.cfg)
				if err != nil {
					b.Fatal(err)
				}
				first += e.warmUp
				if err := e.close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/load")
			b.ReportMetric(first.Seconds()*1e3/float64(b.N), "first-run-ms")
		})
	}
}

// TestOptionsAutoThreads: sessions 0 is one per core (at most 4), and the
// cores are shared out among the sessions, one thread at least.
func TestOptionsAutoThreads(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct {
		cores, sessions, threads  int
		wantSessions, wantThreads int
	}{
		{cores: 1, wantSessions: 1, wantThreads: 1},
		{cores: 2, wantSessions: 2, wantThreads: 1},
		{cores: 16, wantSessions: 4, wantThreads: 4},
		{cores: 2, sessions: 1, wantSessions: 1, wantThreads: 2},
		{cores: 2, sessions: 3, wantSessions: 3, wantThreads: 1},
		{cores: 8, sessions: 2, threads: 1, wantSessions: 2, wantThreads: 1},
	} {
		runtime.GOMAXPROCS(tc.cores)
		o := Options{Sessions: tc.sessions, IntraOpThreads: tc.threads}
		o.setDefaults()
		if o.Sessions != tc.wantSessions || o.IntraOpThreads != tc.wantThreads {
			t.Errorf("%d cores, sessions %d, threads %d: got %d sessions of %d threads, want %d of %d",
				tc.cores, tc.sessions, tc.threads, o.Sessions, o.IntraOpThreads, tc.wantSessions, tc.wantThreads)
		}
	}
}

// TestOptimizedModelCache: the first load writes ONNX Runtime's optimised
// copy, later loads use it and give the same outputs, and a damaged copy is
// replaced, not an error.
func TestOptimizedModelCache(t *testing.T) {
	plain := newTestCaptioner(t, Options{Sessions: 1})
	cache := t.TempDir()
	input := make([]float32, InputLen)
	Preprocess(mustDecode(t, readPhoto(t, "dog.jpg")), input)
	want, err := plain.enc.run(context.Background(), input, 1)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string) {
		t.Helper()
		c := newTestCaptioner(t, Options{Sessions: 2, OptimizedModelCache: cache})
		files, _ := filepath.Glob(filepath.Join(cache, "*"))
		if len(files) != 1 || !strings.HasPrefix(filepath.Base(files[0]), "encoder-") || strings.HasSuffix(files[0], ".tmp") {
			t.Fatalf("%s: cache holds %q, want one encoder-*.onnx", what, files)
		}
		got, err := c.enc.run(context.Background(), input, 1)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want.spatial {
			if d := math.Abs(float64(got.spatial[i] - want.spatial[i])); d > 1e-5 {
				t.Fatalf("%s: spatial[%d] = %g, want %g", what, i, got.spatial[i], want.spatial[i])
			}
		}
	}
	check("first load")
	check("from the cache")
	files, _ := filepath.Glob(filepath.Join(cache, "*"))
	if err := os.WriteFile(files[0], []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("damaged cache")
}
