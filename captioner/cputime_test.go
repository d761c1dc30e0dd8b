//go:build unix

package captioner

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time this process has used, all threads together.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a "cpu-ms/img" metric: CPU time per image since start.
// On a busy machine wall time says little; for single-threaded work the CPU
// time is close to what an idle machine's wall time would be.
func reportCPU(b *testing.B, start time.Duration, images int) {
	if start == 0 {
		return
	}
	b.ReportMetric(float64(processCPU()-start)/float64(time.Millisecond)/float64(images), "cpu-ms/img")
}
