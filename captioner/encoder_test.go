package captioner

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkEncoderLoad is the encoder's load time: one session with its
// warm-up run (newEncoder, what New pays per session), and the warm-up run
// alone (first-run ms), so session creation is the difference.
func BenchmarkEncoderLoad(b *testing.B) {
	newTestCaptioner(b, Options{}) // skips without the model or ONNX Runtime; initialises the runtime
	dir, err := DefaultModelDir()
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, EncoderFile)
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			var first time.Duration
			for b.Loop() {
				e, err := newEncoder(path, sessionConfig{sessions: 1, threads: threads})
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
