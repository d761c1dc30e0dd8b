package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
	"github.com/captionbot/captionbot/captioner"
)

// BenchmarkServe100Photos is the load test: 100 photos from 20
// users arrive at once through the fake Bot API server; every one must be
// answered exactly once. It reports photos/s, p50/p95 time to reply, the
// process's peak RSS (the test binary, fake server included), and where the
// time went:
//
//   - caption_ms/photo and refine_ms/photo: mean wall time in Describe and
//     Refine;
//
//   - overhead_ms/photo: worker time per photo spent in neither (getFile,
//     download, settings, queue hand-off, sendMessage, idle workers at the
//     end), i.e. (workers × elapsed − Σ describe − Σ refine) / photos, an
//     upper bound on the bot's own cost;
//
//   - cpu_ms/photo: process CPU per photo (bot, fake server and models).
//
//     go test ./cmd/captionbot -run XXX -bench Serve100Photos/onnx -benchtime 1x -count 1
//
// Read peak RSS from a run's first iteration (-count 1, one variant per
// process, as serve loads one captioner): later iterations in the same
// process also hold what earlier captioners left allocated.
//
// "fake" captions with bottest (instant), so its times are the bot's own
// cost plus the offline refiner; "onnx" uses the real captioner with
// whatever models/ holds (it logs which) and runs only where ONNX Runtime
// is installed.
func BenchmarkServe100Photos(b *testing.B) {
	photos := benchPhotos(b, 100)
	b.Run("fake", func(b *testing.B) {
		benchServe(b, describerDeps(&bottest.Describer{}), photos, "")
	})
	// "onnx" runs the captioner as configured by default (one
	// single-threaded session per core, up to 4); "onnx-one-session" shares
	// one session with a thread per core among the workers, the default
	// before, with ONNX Runtime's threads sleeping when idle, and
	// "onnx-one-session-spin" with them spin-waiting (ONNX Runtime's own
	// default).
	oneSession := fmt.Sprintf("[captioner]\nsessions = 1\nintra_op_threads = %d\n", runtime.GOMAXPROCS(0))
	for _, v := range []struct{ name, captioner string }{
		{"onnx", ""},
		{"onnx-one-session", oneSession},
		{"onnx-one-session-spin", oneSession + "spin_wait = true\n"},
		// 4 workers, each photo described alone, against the same 4 workers
		// with the photos they take at the same moment batched (up to 4).
		{"onnx-workers4", "[bot]\nworkers = 4\n"},
		{"onnx-batch4", "[captioner]\nbatch = 4\n[bot]\nworkers = 4\n"},
		{"onnx-workers8", "[bot]\nworkers = 8\n"},
		{"onnx-batch4-workers8", "[captioner]\nbatch = 4\n[bot]\nworkers = 8\n"},
	} {
		b.Run(v.name, func(b *testing.B) {
			if _, err := captioner.FindRuntimeLibrary(""); err != nil {
				b.Skip("no ONNX Runtime: ", err)
			}
			dp := defaultDeps()
			open := dp.openDescriber
			dp.openDescriber = func(cfg *config) (bot.Describer, io.Closer, error) {
				dir := cfg.Captioner.ModelDir
				if dir == "" {
					dir = filepath.Join("..", "..", "models") // the captioner's default, from this package
				}
				models, _ := filepath.Glob(filepath.Join(dir, "*.onnx"))
				b.Logf("models: %s", strings.Join(models, ", "))
				return open(cfg)
			}
			benchServe(b, dp, photos, v.captioner)
		})
	}
}

// timing wraps the service's captioner and refiner to sum their wall time.
type timing struct {
	describe, refine   atomic.Int64 // nanoseconds
	described, refined atomic.Int64
	svc                *bot.Service
}

// workers is the service's worker count; read it after serve returned.
func (t *timing) workers() int {
	if t.svc.Workers > 0 {
		return t.svc.Workers
	}
	return runtime.NumCPU()
}

type timedDescriber struct {
	bot.Describer
	t *timing
}

func (d timedDescriber) Describe(ctx context.Context, img []byte) (bot.Description, error) {
	start := time.Now()
	defer func() { d.t.describe.Add(int64(time.Since(start))); d.t.described.Add(1) }()
	return d.Describer.Describe(ctx, img)
}

type timedRefiner struct {
	bot.Refiner
	t *timing
}

func (r timedRefiner) Refine(ctx context.Context, req bot.RefineRequest) (bot.Post, error) {
	start := time.Now()
	defer func() { r.t.refine.Add(int64(time.Since(start))); r.t.refined.Add(1) }()
	return r.Refiner.Refine(ctx, req)
}

// timeService returns dp with a service that times its captioner and
// refiner.
func timeService(dp deps) (deps, *timing) {
	t := &timing{}
	newService := dp.newService
	dp.newService = func(d bot.Describer, r bot.Refiner, p bot.Preferences) *bot.Service {
		t.svc = newService(timedDescriber{d, t}, timedRefiner{r, t}, p)
		return t.svc
	}
	return dp, t
}

// benchPhotos makes n distinct 800×600 JPEGs (gradients and stripes), so
// the caption cache never hits.
func benchPhotos(b *testing.B, n int) [][]byte {
	b.Helper()
	out := make([][]byte, n)
	for i := range out {
		img := image.NewRGBA(image.Rect(0, 0, 800, 600))
		for y := range 600 {
			for x := range 800 {
				img.Set(x, y, color.RGBA{uint8(x*255/800 + i), uint8(y*255/600 + 3*i), uint8((x/(10+i%7) + y/13) % 2 * 200), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			b.Fatal(err)
		}
		out[i] = buf.Bytes()
	}
	return out
}

// benchServe runs serve with extra appended to its config.
func benchServe(b *testing.B, dp deps, photos [][]byte, extra string) {
	const users = 20
	for range b.N {
		b.StopTimer()
		api := tg.NewServer()
		for i, p := range photos {
			api.AddFile("photo"+strconv.Itoa(i), p)
		}
		b.Setenv(envTelegramToken, "")
		cfg := writeConfigB(b, fmt.Sprintf(`
[telegram]
token = %q
api_endpoint = %q
file_endpoint = %q
[store]
path = %q
[log]
level = "error"
%s`, tg.Token, api.APIEndpoint(), api.FileEndpoint(), filepath.Join(b.TempDir(), "bench.db"), extra))
		timed, tm := timeService(dp)
		resetPeakRSS()
		ctx, cancel := context.WithCancel(context.Background())
		code := make(chan int, 1)
		var stderr safeBuffer
		go func() { code <- run(ctx, timed, []string{"serve", "--config", cfg}, io.Discard, &stderr) }()
		wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := api.WaitCalls(wctx, "setMyCommands", 1); err != nil {
			b.Fatalf("serve did not start: %v\n%s", err, stderr.String())
		}
		b.StartTimer()

		pushed := make(map[string]time.Time, len(photos))
		cpu0 := cpuTime()
		start := time.Now()
		for i := range photos {
			user := int64(1 + i%users)
			msgID := 100 + i
			pushed[fmt.Sprintf("%d/%d", user, msgID)] = time.Now()
			api.Push(tg.Message(tg.PhotoMessage(msgID, tg.PrivateChat(user), user, "photo"+strconv.Itoa(i), "")))
		}
		calls, err := api.WaitCalls(wctx, "sendMessage", len(photos))
		if err != nil {
			b.Fatalf("%v\n%s", err, stderr.String())
		}
		b.StopTimer()
		cpu := cpuTime() - cpu0
		wcancel()
		var lat []time.Duration
		var last time.Time
		checkAnsweredOnce(b, calls)
		for _, c := range calls {
			lat = append(lat, c.At.Sub(pushed[replyKey(c)]))
			if c.At.After(last) {
				last = c.At
			}
		}
		cancel()
		if c := <-code; c != exitOK {
			b.Fatalf("serve exit %d\n%s", c, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
		if n := len(api.Calls("sendMessage")); n != len(photos) {
			b.Errorf("%d replies for %d photos", n, len(photos))
		}
		api.Close()

		slices.Sort(lat)
		elapsed := last.Sub(start)
		b.ReportMetric(float64(len(photos))/elapsed.Seconds(), "photos/s")
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95_ms")
		b.ReportMetric(float64(elapsed.Microseconds())/1000/float64(len(photos)), "ms/photo")
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(photos)), "cpu_ms/photo")
		n := float64(len(photos))
		b.ReportMetric(float64(tm.describe.Load())/1e6/max(float64(tm.described.Load()), 1), "caption_ms/photo")
		b.ReportMetric(float64(tm.refine.Load())/1e6/max(float64(tm.refined.Load()), 1), "refine_ms/photo")
		busy := time.Duration(tm.describe.Load() + tm.refine.Load())
		b.ReportMetric(float64((time.Duration(tm.workers())*elapsed-busy).Microseconds())/1000/n, "overhead_ms/photo")
		if rss := peakRSS(); rss > 0 {
			b.ReportMetric(float64(rss)/1024, "peakRSS_MB")
		}
	}
}

func writeConfigB(b *testing.B, text string) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "captionbot.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	return p
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS resets the kernel's VmHWM for this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in KiB, 0 where /proc is missing.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// replyKey names the photo a sendMessage call answers: chat/message.
func replyKey(c tg.Call) string {
	return c.Params.Get("chat_id") + "/" + c.Params.Get("reply_to_message_id")
}

// checkAnsweredOnce fails for a photo answered twice or answered without a
// post (the post carries the action buttons).
func checkAnsweredOnce(b *testing.B, calls []tg.Call) {
	b.Helper()
	seen := map[string]bool{}
	for _, c := range calls {
		key := replyKey(c)
		if seen[key] {
			b.Errorf("photo %s answered twice", key)
		}
		seen[key] = true
		if c.Params.Get("reply_markup") == "" {
			b.Errorf("photo %s got no post: %q", key, c.Params.Get("text"))
		}
	}
}
