package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot/bottest"
)

// slowLLM is a fake OpenAI-compatible server whose every answer takes
// delay (or until the client gives up).
func slowLLM(b *testing.B, delay time.Duration) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		post, _ := json.Marshal(map[string]any{"caption": "Zoomies in the meadow!", "hashtags": []string{"#dog"}, "alt_text": "A dog running in the grass."})
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"choices": []map[string]any{{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": string(post)}}},
		})
	}))
	b.Cleanup(srv.Close)
	return srv, &calls
}

// BenchmarkServe100PhotosSlowLLM is the slow-LLM load test: 100 photos from
// 20 users arrive at once, captioning is instant (bottest), and the LLM
// takes 10 s per post. Captioning and refining are separate stages, so
// [refiner] concurrency (8) LLM calls run at once and a photo that waits
// [bot] max_queue_wait (30 s) for a slot gets the offline post. It reports
// how many photos were answered within 110 s (the target: at least 95, none
// twice), the time of the last answer, LLM and offline posts, and the typing
// actions per second (at most one per chat per 4 s):
//
//	go test ./cmd/captionbot -run XXX -bench Serve100PhotosSlowLLM -benchtime 1x -count 1
func BenchmarkServe100PhotosSlowLLM(b *testing.B) {
	const (
		photos = 100
		users  = 20
		delay  = 10 * time.Second
	)
	data := benchPhotos(b, photos)
	dp := describerDeps(&bottest.Describer{})
	for range b.N {
		b.StopTimer()
		llm, llmCalls := slowLLM(b, delay)
		api := tg.NewServer()
		for i, p := range data {
			api.AddFile("photo"+strconv.Itoa(i), p)
		}
		b.Setenv(envTelegramToken, "")
		b.Setenv(envOpenAIKey, "")
		cfg := writeConfigB(b, fmt.Sprintf(`
[telegram]
token = %q
api_endpoint = %q
file_endpoint = %q
[refiner]
provider = "openai"
base_url = %q
model = "slow-model"
timeout = "20s"
max_retries = 0
[store]
path = %q
[log]
level = "error"
`, tg.Token, api.APIEndpoint(), api.FileEndpoint(), llm.URL+"/v1", filepath.Join(b.TempDir(), "bench.db")))
		ctx, cancel := context.WithCancel(context.Background())
		code := make(chan int, 1)
		var stderr safeBuffer
		go func() { code <- run(ctx, dp, []string{"serve", "--config", cfg}, io.Discard, &stderr) }()
		wctx, wcancel := context.WithTimeout(context.Background(), 3*time.Minute)
		if _, err := api.WaitCalls(wctx, "setMyCommands", 1); err != nil {
			b.Fatalf("serve did not start: %v\n%s", err, stderr.String())
		}
		b.StartTimer()
		start := time.Now()
		for i := range photos {
			user := int64(1 + i%users)
			api.Push(tg.Message(tg.PhotoMessage(100+i, tg.PrivateChat(user), user, "photo"+strconv.Itoa(i), "")))
		}
		calls, err := api.WaitCalls(wctx, "sendMessage", photos)
		if err != nil {
			b.Fatalf("%v\n%s", err, stderr.String())
		}
		b.StopTimer()
		wcancel()
		var within, llmPosts int
		var last time.Duration
		checkAnsweredOnce(b, calls)
		for _, c := range calls {
			at := c.At.Sub(start)
			if at <= 110*time.Second {
				within++
			}
			last = max(last, at)
			if strings.HasPrefix(c.Params.Get("text"), "Zoomies") { // the LLM's post
				llmPosts++
			}
		}
		typing := api.Calls("sendChatAction")
		cancel()
		if c := <-code; c != exitOK {
			b.Fatalf("serve exit %d\n%s", c, stderr.String())
		}
		if n := len(api.Calls("sendMessage")); n != photos {
			b.Errorf("%d replies for %d photos", n, photos)
		}
		api.Close()
		if within < 95 {
			b.Errorf("%d of %d photos answered within 110 s, want ≥ 95", within, photos)
		}
		b.ReportMetric(float64(within), "answered_110s")
		b.ReportMetric(last.Seconds(), "last_reply_s")
		b.ReportMetric(float64(photos)/last.Seconds(), "photos/s")
		b.ReportMetric(float64(llmPosts), "llm_posts")
		b.ReportMetric(float64(photos-llmPosts), "offline_posts")
		b.ReportMetric(float64(llmCalls.Load()), "llm_calls")
		b.ReportMetric(float64(len(typing))/last.Seconds(), "typing/s")
		perChat := map[string][]time.Time{}
		minGap := time.Duration(1 << 62)
		for _, c := range typing {
			id := c.Params.Get("chat_id")
			if ts := perChat[id]; len(ts) > 0 {
				minGap = min(minGap, c.At.Sub(ts[len(ts)-1]))
			}
			perChat[id] = append(perChat[id], c.At)
		}
		if minGap < time.Duration(1<<62) {
			b.ReportMetric(minGap.Seconds(), "min_typing_gap_s")
		}
	}
}
