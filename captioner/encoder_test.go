package captioner

import (
	"fmt"
	"path/filepath"
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
				e, err := newEncoder(path, 1, threads)
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
