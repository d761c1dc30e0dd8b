package openai

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	goopenai "github.com/sashabaranov/go-openai"
)

// fakeServer is an OpenAI-compatible chat completions server on loopback. It
// records every request and answers with respond.
type fakeServer struct {
	t       *testing.T
	srv     *httptest.Server
	respond func(w http.ResponseWriter, r *http.Request, n int, body recorded)

	mu       sync.Mutex
	requests []recorded
}

// recorded is one request as the server saw it.
type recorded struct {
	Path string
	Auth string
	// Req is the body decoded with go-openai's own types.
	Req goopenai.ChatCompletionRequest
	// Raw is the body as generic JSON, to check exact field names.
	Raw map[string]any
}

func newFakeServer(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int, body recorded)) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rec := recorded{Path: r.URL.Path, Auth: r.Header.Get("Authorization")}
	if err := json.Unmarshal(b, &rec.Req); err != nil {
		f.t.Errorf("request body does not decode as a chat completion request: %v", err)
	}
	if err := json.Unmarshal(b, &rec.Raw); err != nil {
		f.t.Errorf("request body is not JSON: %v", err)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	n := len(f.requests)
	f.mu.Unlock()
	f.respond(w, r, n, rec)
}

// count returns how many requests arrived.
func (f *fakeServer) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

// request returns the i-th request (from 0).
func (f *fakeServer) request(i int) recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.requests) {
		f.t.Fatalf("request %d never arrived (%d did)", i, len(f.requests))
	}
	return f.requests[i]
}

// baseURL is the /v1 URL a client is configured with.
func (f *fakeServer) baseURL() string { return f.srv.URL + "/v1" }

// answer writes a successful completion whose message is content.
func answer(w http.ResponseWriter, content string) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "model": "test-model",
		"choices": []map[string]any{{
			"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": content},
		}},
	})
}

// answerJSON answers with a JSON post.
func answerJSON(w http.ResponseWriter, caption string, tags []string, alt string) {
	b, _ := json.Marshal(map[string]any{"caption": caption, "hashtags": tags, "alt_text": alt})
	answer(w, string(b))
}

// fail writes an OpenAI-style error.
func fail(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": message, "type": "error"}})
}
