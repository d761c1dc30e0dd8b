// Package telegramtest is a fake Telegram Bot API server on httptest, for
// tests and benchmarks of the Telegram adapter and of captionbot serve. It
// implements the methods the adapter uses (getMe, getUpdates with offsets
// and long-poll timeout, getFile and file downloads, sendMessage,
// editMessageText, sendChatAction, answerCallbackQuery, setMyCommands,
// getChatAdministrators, setWebhook, deleteWebhook), records every call, and
// can be told to fail the next calls of a method (429 with retry_after, 5xx),
// to lose the answers of the next calls (DropNext), to be down for a while
// (Down), or to answer for a group upgraded to a supergroup (Migrate).
package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is the bot token the server accepts.
const Token = "123456:TEST-token-do-not-log"

// BotID and BotUsername are what getMe answers.
const (
	BotID       = 1000
	BotUsername = "CaptionTestBot"
)

// Call is one recorded API call.
type Call struct {
	Method string
	Params url.Values
	At     time.Time
}

// Server is the fake. Create it with NewServer; it closes with the test.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	updates   []json.RawMessage
	ids       []int64
	confirmed int64 // every update below this offset was confirmed
	nextID    int64
	nextMsg   int
	calls     []Call
	files     map[string][]byte
	admins    map[int64][]int64
	fail      map[string][]failure
	drop      map[string]int  // method → calls whose answer is lost
	failAll   map[string]int  // method → status of every answer (FailAll)
	migrated  map[int64]int64 // basic group → supergroup
	down      int             // Down: HTTP status of every answer
}

// failure is a scripted error answer.
type failure struct {
	code        int
	description string
}

// NewServer starts a fake Bot API server.
func NewServer() *Server {
	s := &Server{changed: make(chan struct{}), nextID: 1, nextMsg: 10000,
		files: map[string][]byte{}, admins: map[int64][]int64{}, fail: map[string][]failure{},
		drop: map[string]int{}, failAll: map[string]int{}, migrated: map[int64]int64{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// APIEndpoint and FileEndpoint are the adapter's endpoint format strings.
func (s *Server) APIEndpoint() string  { return s.URL + "/bot%s/%s" }
func (s *Server) FileEndpoint() string { return s.URL + "/file/bot%s/%s" }

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddFile makes a file downloadable under fileID.
func (s *Server) AddFile(fileID string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[fileID] = data
}

// SetAdmins sets a chat's administrators.
func (s *Server) SetAdmins(chatID int64, userIDs ...int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.admins[chatID] = userIDs
}

// FailNext makes the next len(codes) calls of method fail with those HTTP
// status codes (429 answers carry retry_after 1).
func (s *Server) FailNext(method string, codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.fail[method] = append(s.fail[method], failure{code: c, description: http.StatusText(c)})
	}
}

// FailNextWith makes the next call of method fail with code and the Bot
// API description (e.g. 400, "Bad Request: file is too big").
func (s *Server) FailNextWith(method string, code int, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = append(s.fail[method], failure{code: code, description: description})
}

// FailAll makes every call of method fail with code until FailAll(method, 0).
func (s *Server) FailAll(method string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAll[method] = code
}

// DropNext makes the next n calls of method do their work (a sendMessage
// posts its message) and then drop the connection without an answer, as
// when the response is lost on the way back.
func (s *Server) DropNext(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drop[method] += n
}

// Down makes every call and download answer code (an outage behind a proxy:
// 502) until Down(0). Calls are still recorded.
func (s *Server) Down(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = code
}

// Migrate upgrades the basic group oldID to the supergroup newID: from
// now on every call naming chat_id oldID fails as Telegram's do, with 400
// and parameters.migrate_to_chat_id.
func (s *Server) Migrate(oldID, newID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.migrated[oldID] = newID
}

// Push queues an update; update_id is assigned and returned. u is any
// JSON-marshalable update body without "update_id" (see the builders).
func (s *Server) Push(u map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextID
	s.nextID++
	u["update_id"] = id
	raw, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	s.updates = append(s.updates, raw)
	s.ids = append(s.ids, id)
	s.notifyLocked()
	return id
}

// Confirmed returns the offset Telegram would resume from: every update
// with a lower ID was confirmed by a getUpdates offset.
func (s *Server) Confirmed() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.confirmed
}

// Calls returns the recorded calls of method ("" for all).
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WaitCalls waits until method was called at least n times (successful or
// not) and returns the calls; it fails after timeout.
func (s *Server) WaitCalls(ctx context.Context, method string, n int) ([]Call, error) {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if calls := s.Calls(method); len(calls) >= n {
			return calls, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return s.Calls(method), fmt.Errorf("waiting for %d %s calls: got %d: %w", n, method, len(s.Calls(method)), ctx.Err())
		}
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down != 0 {
		method := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		if strings.HasPrefix(r.URL.Path, "/file/") {
			method = "download"
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: method, Params: url.Values{}, At: time.Now()})
		s.notifyLocked()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(down)
		_, _ = w.Write([]byte("<html><body><h1>" + http.StatusText(down) + "</h1></body></html>"))
		return
	}
	if strings.HasPrefix(r.URL.Path, "/file/bot"+Token+"/") {
		s.serveFile(w, strings.TrimPrefix(r.URL.Path, "/file/bot"+Token+"/"))
		return
	}
	method, ok := strings.CutPrefix(r.URL.Path, "/bot"+Token+"/")
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: form"})
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Params: r.PostForm, At: time.Now()})
	var fail failure
	if f := s.fail[method]; len(f) > 0 {
		fail, s.fail[method] = f[0], f[1:]
	} else if c := s.failAll[method]; c != 0 {
		fail = failure{code: c, description: http.StatusText(c)}
	}
	drop := s.drop[method] > 0
	if drop {
		s.drop[method]--
	}
	chatID, _ := strconv.ParseInt(r.PostForm.Get("chat_id"), 10, 64)
	migratedTo := s.migrated[chatID]
	s.notifyLocked()
	s.mu.Unlock()
	switch {
	case migratedTo != 0:
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400,
			"description": "Bad Request: group chat was upgraded to a supergroup chat",
			"parameters":  map[string]any{"migrate_to_chat_id": migratedTo}})
		return
	case fail.code == http.StatusTooManyRequests:
		writeJSON(w, fail.code, map[string]any{"ok": false, "error_code": 429,
			"description": "Too Many Requests: retry after 1", "parameters": map[string]any{"retry_after": 1}})
		return
	case fail.code != 0:
		writeJSON(w, fail.code, map[string]any{"ok": false, "error_code": fail.code, "description": fail.description})
		return
	}

	if drop {
		// Do the work, then lose the answer.
		s.answer(httptest.NewRecorder(), r, method)
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
			}
		}
		return
	}
	s.answer(w, r, method)
}

// answer carries out method and writes its answer.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, method string) {
	p := r.PostForm
	switch method {
	case "getMe":
		ok200(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Caption", "username": BotUsername})
	case "getUpdates":
		s.getUpdates(w, r)
	case "getFile":
		id := p.Get("file_id")
		s.mu.Lock()
		data, found := s.files[id]
		s.mu.Unlock()
		if !found {
			writeJSON(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
			return
		}
		ok200(w, map[string]any{"file_id": id, "file_unique_id": "u" + id, "file_size": len(data), "file_path": "photos/" + id + ".jpg"})
	case "sendMessage", "editMessageText":
		chatID, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
		s.mu.Lock()
		s.nextMsg++
		id := s.nextMsg
		s.mu.Unlock()
		if method == "editMessageText" {
			id, _ = strconv.Atoi(p.Get("message_id"))
		}
		ok200(w, map[string]any{"message_id": id, "date": time.Now().Unix(),
			"chat": map[string]any{"id": chatID, "type": "private"}, "text": p.Get("text")})
	case "getChatAdministrators":
		chatID, _ := strconv.ParseInt(p.Get("chat_id"), 10, 64)
		s.mu.Lock()
		ids := s.admins[chatID]
		s.mu.Unlock()
		members := []map[string]any{}
		for _, id := range ids {
			members = append(members, map[string]any{"status": "administrator", "user": map[string]any{"id": id, "is_bot": false, "first_name": "Admin"}})
		}
		ok200(w, members)
	case "sendChatAction", "answerCallbackQuery", "setMyCommands", "setWebhook", "deleteWebhook":
		ok200(w, true)
	default:
		writeJSON(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method " + method})
	}
}

func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request) {
	offset, _ := strconv.ParseInt(r.PostForm.Get("offset"), 10, 64)
	timeout, _ := strconv.Atoi(r.PostForm.Get("timeout"))
	limit, _ := strconv.Atoi(r.PostForm.Get("limit"))
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	deadline := time.After(time.Duration(timeout) * time.Second)
	for {
		s.mu.Lock()
		if offset > s.confirmed {
			// Telegram forgets updates below a getUpdates offset.
			s.confirmed = offset
			s.notifyLocked()
		}
		var out []json.RawMessage
		for i, id := range s.ids {
			if id >= s.confirmed && len(out) < limit {
				out = append(out, s.updates[i])
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout == 0 {
			if out == nil {
				out = []json.RawMessage{}
			}
			ok200(w, out)
			return
		}
		select {
		case <-ch:
		case <-deadline:
			ok200(w, []json.RawMessage{})
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *Server) serveFile(w http.ResponseWriter, path string) {
	id := strings.TrimSuffix(strings.TrimPrefix(path, "photos/"), ".jpg")
	s.mu.Lock()
	data, ok := s.files[id]
	s.calls = append(s.calls, Call{Method: "download", Params: url.Values{"file_id": {id}}, At: time.Now()})
	s.notifyLocked()
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, nil)
		return
	}
	_, _ = w.Write(data)
}

func ok200(w http.ResponseWriter, result any) {
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// NewUpdate assigns u the next update_id (as Push does) and returns it with
// the update's JSON, for delivery to a webhook (PostWebhook) rather than
// getUpdates.
func (s *Server) NewUpdate(u map[string]any) (int64, []byte) {
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	s.mu.Unlock()
	u["update_id"] = id
	raw, err := json.Marshal(u)
	if err != nil {
		panic(err)
	}
	return id, raw
}

// PostWebhook delivers one update's JSON to a webhook as Telegram does
// (POST with the secret token header) and returns the HTTP status; Telegram
// delivers it again until it gets a 2xx.
func PostWebhook(ctx context.Context, client *http.Client, url, secret string, raw []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(raw)))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}
