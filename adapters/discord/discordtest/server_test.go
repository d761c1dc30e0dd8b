package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// pointDiscordgo aims discordgo's REST endpoints at the fake for one test.
// (The adapter has a function for this; the fake's own tests stay
// independent of it.)
func pointDiscordgo(t *testing.T, s *Server) {
	t.Helper()
	oldAPI, oldGateway := discordgo.EndpointAPI, discordgo.EndpointGateway
	discordgo.EndpointAPI = s.URL + "api/v9/"
	discordgo.EndpointGateway = discordgo.EndpointAPI + "gateway"
	t.Cleanup(func() { discordgo.EndpointAPI, discordgo.EndpointGateway = oldAPI, oldGateway })
}

func wait(t *testing.T, s *Server, what string, cond func(*Server) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitFor(ctx, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// recorder collects the message contents a discordgo session receives.
type recorder struct {
	mu   sync.Mutex
	msgs []string
	ch   chan struct{}
}

func (r *recorder) onMessage(_ *discordgo.Session, m *discordgo.MessageCreate) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m.Content)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

// waitFor waits up to timeout for n messages, and reports whether they came.
func (r *recorder) waitFor(n int, timeout time.Duration) ([]string, bool) {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got, true
		}
		select {
		case <-r.ch:
		case <-deadline:
			return got, false
		}
	}
}

func (r *recorder) waitN(t *testing.T, n int) []string {
	t.Helper()
	for {
		r.mu.Lock()
		got := append([]string(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("got messages %q, want %d", got, n)
		}
	}
}

// newServer starts a fake closed at the end of the test, after the
// sessions opened later (cleanups run last-in first-out), so no session sees
// the server vanish and starts reconnecting.
func newServer(t *testing.T) *Server {
	s := NewServer()
	t.Cleanup(s.Close)
	return s
}

func openSession(t *testing.T, s *Server) (*discordgo.Session, *recorder) {
	t.Helper()
	pointDiscordgo(t, s)
	dg, err := discordgo.New("Bot " + s.Token)
	if err != nil {
		t.Fatal(err)
	}
	dg.LogLevel = -1
	if testing.Verbose() {
		dg.LogLevel = discordgo.LogInformational
	}
	dg.SyncEvents = true // handlers in arrival order, so the tests can check it
	rec := &recorder{ch: make(chan struct{}, 100)}
	dg.AddHandler(rec.onMessage)
	if err := dg.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeSession(t, dg) }) // before the server closes: see newServer
	return dg, rec
}

// closeSession closes dg once its heartbeat loop has sent its first beat
// (DataReady). Closing earlier makes discordgo's heartbeat write to the
// closed socket and reconnect the closed session.
func closeSession(t *testing.T, dg *discordgo.Session) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		dg.RLock()
		ready := dg.DataReady
		dg.RUnlock()
		if ready {
			break
		}
	}
	dg.Close()
}

func TestGatewayIdentifyReadyDispatchAndHeartbeat(t *testing.T) {
	s := newServer(t)
	s.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: "1", ChannelID: "2", Content: "queued before READY"})
	dg, rec := openSession(t, s)

	ids := s.Identifies()
	if len(ids) != 1 || ids[0].Token != "Bot "+s.Token || !ids[0].Compress {
		t.Fatalf("identifies = %+v, want one with the token and compress on", ids)
	}
	if dg.State.User == nil || dg.State.User.ID != s.BotID {
		t.Errorf("state user = %+v, want the bot %s", dg.State.User, s.BotID)
	}
	s.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: "3", ChannelID: "2", Content: "hello"})
	if got := rec.waitN(t, 2); got[0] != "queued before READY" || got[1] != "hello" {
		t.Errorf("messages = %q", got)
	}
	// discordgo's first heartbeat comes at once and is acknowledged; the
	// session sees the ACK (its LastHeartbeatAck is not before the ACK).
	wait(t, s, "a heartbeat", func(s *Server) bool { n, _ := s.Heartbeats(); return n >= 1 })
	_, sentAt := s.Heartbeats()
	deadline := time.Now().Add(5 * time.Second)
	for ; time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		dg.RLock()
		acked := !dg.LastHeartbeatAck.Before(sentAt)
		dg.RUnlock()
		if acked {
			return
		}
	}
	t.Error("the session never saw a heartbeat ACK")
}

func TestGatewayResumeReplaysMissedEvents(t *testing.T) {
	s := newServer(t)
	_, rec := openSession(t, s)
	s.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: "1", Content: "before"})
	rec.waitN(t, 1)

	s.DropConnection()
	s.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: "2", Content: "while down"})
	wait(t, s, "a resume", func(s *Server) bool { return s.Resumes() >= 1 && s.Ready() })
	if got := rec.waitN(t, 2); got[1] != "while down" {
		t.Errorf("messages = %q, want the missed one replayed", got)
	}
	if n := len(s.Identifies()); n != 1 {
		t.Errorf("identifies = %d, want 1 (resumed, not re-identified)", n)
	}
}

func TestGatewayInvalidSessionReidentifies(t *testing.T) {
	s := newServer(t)
	_, rec := openSession(t, s)
	s.InvalidateNextResume()
	s.DropConnection()
	// The refused RESUME is followed by IDENTIFY on the same connection.
	// (A stale discordgo heartbeat can force one more reconnect, which then
	// resumes the new session: see Settled.)
	wait(t, s, "a second identify", func(s *Server) bool { return len(s.Identifies()) >= 2 && s.Settled() })
	// On a loaded machine discordgo may still drop that session and
	// identify once more; an event sent to the abandoned session is lost,
	// as on Discord, so it is sent again to the newest one. Without a new
	// IDENTIFY, a lost event is a failure.
	for try := 0; ; try++ {
		ids := len(s.Identifies())
		s.Dispatch("MESSAGE_CREATE", &discordgo.Message{ID: "1", Content: "new session"})
		if got, ok := rec.waitFor(1, 5*time.Second); ok {
			if got[0] != "new session" {
				t.Errorf("messages = %q", got)
			}
			return
		}
		if len(s.Identifies()) == ids || try == 2 {
			t.Fatalf("the new session got no message (identifies %d)", len(s.Identifies()))
		}
		wait(t, s, "the newest session", (*Server).Settled)
	}
}

func do(t *testing.T, method, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestRESTInteractionRules(t *testing.T) {
	s := newServer(t)
	api := s.URL + "api/v9/"
	s.Dispatch("INTERACTION_CREATE", map[string]any{"id": "10", "token": "tok", "type": 2})

	// Edits before the interaction is acknowledged are refused.
	if st, _ := do(t, "PATCH", api+"webhooks/"+s.AppID+"/tok/messages/@original", "", `{"content":"x"}`); st != 404 {
		t.Errorf("edit before ack = %d, want 404", st)
	}
	if st, body := do(t, "POST", api+"interactions/10/tok/callback", "", `{"type":5}`); st != 204 {
		t.Fatalf("deferral = %d %s", st, body)
	}
	if st, _ := do(t, "POST", api+"interactions/10/tok/callback", "", `{"type":5}`); st != 400 {
		t.Errorf("second ack = %d, want 400", st)
	}
	if st, _ := do(t, "PATCH", api+"webhooks/"+s.AppID+"/tok/messages/@original", "", `{"content":"post"}`); st != 200 {
		t.Errorf("edit after ack = %d, want 200", st)
	}
	long, _ := json.Marshal(map[string]string{"content": strings.Repeat("é", MaxContent+1)})
	if st, _ := do(t, "POST", api+"webhooks/"+s.AppID+"/tok", "", string(long)); st != 400 {
		t.Errorf("2,001-character followup = %d, want 400", st)
	}
	if st, _ := do(t, "POST", api+"interactions/99/nope/callback", "", `{"type":5}`); st != 404 {
		t.Errorf("unknown interaction = %d, want 404", st)
	}
	// REST outside webhooks needs the bot token.
	if st, _ := do(t, "POST", api+"channels/5/messages", "", `{"content":"x"}`); st != 401 {
		t.Errorf("no token = %d, want 401", st)
	}
	if st, _ := do(t, "POST", api+"channels/5/messages", "Bot "+s.Token, `{"content":"x"}`); st != 200 {
		t.Errorf("with token = %d, want 200", st)
	}
	s.FailNext("POST", "/api/v9/channels/5/messages", 429)
	if st, body := do(t, "POST", api+"channels/5/messages", "Bot "+s.Token, `{"content":"x"}`); st != 429 || !strings.Contains(body, "retry_after") {
		t.Errorf("FailNext 429 = %d %s", st, body)
	}
	url := s.AddFile("a.png", "image/png", []byte("png bytes"))
	if st, body := do(t, "GET", url, "", ""); st != 200 || body != "png bytes" {
		t.Errorf("attachment = %d %q", st, body)
	}
	if n := len(s.Requests()); n != 10 {
		t.Errorf("recorded %d requests, want 10", n)
	}
}

func TestRESTInteractionWindow(t *testing.T) {
	s := newServer(t)
	s.Dispatch("INTERACTION_CREATE", map[string]any{"id": "10", "token": "late", "type": 2})
	s.mu.Lock()
	s.interactions["late"].created = time.Now().Add(-InteractionWindow - time.Second)
	s.mu.Unlock()
	if st, _ := do(t, "POST", s.URL+"api/v9/interactions/10/late/callback", "", `{"type":5}`); st != 404 {
		t.Errorf("late ack = %d, want 404 Unknown interaction", st)
	}
}
