package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/captioner"
)

// bombPNG is a tiny PNG (a few hundred KB) that decodes to w×h pixels of
// 8 or 16 bits per channel (RGB, opaque).
func bombPNG(b *testing.B, w, h int, deep bool) []byte {
	b.Helper()
	var m image.Image
	if deep {
		img := image.NewRGBA64(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		m = img
	} else {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for i := range img.Pix {
			img.Pix[i] = 0xff
		}
		m = img
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, m); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkServeDecodeBombs sends decode bombs — PNGs of a few hundred KB
// under the 40-megapixel cap that decode to hundreds of MB — as image
// files through the fake Bot API to serve with the real captioner, one or
// four at once, and reports the process's peak RSS (test binary and fake
// server included). The target is under 400 MB whatever arrives. Read one
// variant per process:
//
//	go test ./cmd/captionbot -run XXX -bench 'ServeDecodeBombs/16bit-x4$' -benchtime 1x -count 1
func BenchmarkServeDecodeBombs(b *testing.B) {
	if _, err := captioner.FindRuntimeLibrary(""); err != nil {
		b.Skip("no ONNX Runtime: ", err)
	}
	for _, v := range []struct {
		name  string
		deep  bool
		w, h  int
		bombs int
	}{
		{"16bit-x1", true, 7300, 5479, 1}, // 40 MP × 8 bytes = 320 MB
		{"16bit-x4", true, 7300, 5479, 4},
		{"8bit-x1", false, 6000, 6000, 1}, // 36 MP × 4 bytes = 144 MB
		{"8bit-x4", false, 6000, 6000, 4},
	} {
		b.Run(v.name, func(b *testing.B) {
			models, err := filepath.Abs(filepath.Join("..", "..", "models"))
			if err != nil {
				b.Fatal(err)
			}
			bomb := bombPNG(b, v.w, v.h, v.deep)
			b.Logf("bomb: %d KB PNG, %dx%d, 16-bit %v", len(bomb)>>10, v.w, v.h, v.deep)
			for range b.N {
				api := tg.NewServer()
				for i := range v.bombs {
					api.AddFile("bomb"+strconv.Itoa(i), bomb)
				}
				b.Setenv(envTelegramToken, "")
				cfg := writeConfigB(b, fmt.Sprintf(`
[telegram]
token = %q
api_endpoint = %q
file_endpoint = %q
[captioner]
model_dir = %q
[store]
path = %q
[log]
level = "error"
`, tg.Token, api.APIEndpoint(), api.FileEndpoint(), models, filepath.Join(b.TempDir(), "bench.db")))
				ctx, cancel := context.WithCancel(context.Background())
				code := make(chan int, 1)
				var stderr safeBuffer
				go func() { code <- run(ctx, defaultDeps(), []string{"serve", "--config", cfg}, io.Discard, &stderr) }()
				wctx, wcancel := context.WithTimeout(context.Background(), 2*time.Minute)
				if _, err := api.WaitCalls(wctx, "setMyCommands", 1); err != nil {
					b.Fatalf("serve did not start: %v\n%s", err, stderr.String())
				}
				debug.FreeOSMemory() // what encoding the bomb took
				resetPeakRSS()
				for i := range v.bombs {
					user := int64(1 + i)
					api.Push(tg.Message(tg.DocumentMessage(100+i, tg.PrivateChat(user), user, "bomb"+strconv.Itoa(i), "bomb.png", "image/png", len(bomb))))
				}
				calls, err := api.WaitCalls(wctx, "sendMessage", v.bombs)
				if err != nil {
					b.Fatalf("%v\n%s", err, stderr.String())
				}
				wcancel()
				rss := peakRSS()
				posts := 0
				for _, c := range calls {
					if c.Params.Get("reply_markup") != "" {
						posts++
					}
				}
				cancel()
				if c := <-code; c != exitOK {
					b.Fatalf("serve exit %d\n%s", c, stderr.String())
				}
				api.Close()
				b.ReportMetric(float64(posts), "posts")
				b.ReportMetric(float64(v.bombs-posts), "refused")
				if rss > 0 {
					b.ReportMetric(float64(rss)/1024, "peakRSS_MB")
				}
			}
		})
	}
}
