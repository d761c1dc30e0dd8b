// Package discordtest is a fake Discord for tests: a REST API and a websocket
// gateway on loopback, speaking enough of Discord's protocol for discordgo
// v0.29 and captionbot's adapter.
//
// The gateway sends HELLO with a heartbeat interval, answers IDENTIFY with
// READY and heartbeats with ACKs, sends dispatches (MESSAGE_CREATE,
// INTERACTION_CREATE, ...) with sequence numbers, zlib-compressed as binary
// frames when the client identified with compress (as discordgo does), and
// on RESUME replays what the client missed, or answers INVALID_SESSION when
// told to, after which the client identifies again. IDENTIFY with a bad
// token closes with 4004, with an intent made disallowed with 4014.
//
// The REST API records every request (see Requests and WaitFor) and serves
// command registration (bulk overwrite, global and per guild), interaction
// callbacks with Discord's 3-second window and single acknowledgement,
// @original edits, followups, channel messages (with the 2,000-character
// limit), typing, and attachment downloads from files added with AddFile.
package discordtest

import (
	"bytes"
	"compress/zlib"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Gateway opcodes used by the fake.
const (
	opDispatch       = 0
	opHeartbeat      = 1
	opIdentify       = 2
	opResume         = 6
	opInvalidSession = 9
	opHello          = 10
	opHeartbeatAck   = 11
)

// MaxContent is Discord's limit on a message's content, in characters.
const MaxContent = 2000

// InteractionWindow is how long after an interaction is created its first
// callback is accepted.
const InteractionWindow = 3 * time.Second

// Request is one REST call the fake received.
type Request struct {
	Method string
	// Path is the URL path, e.g. "/api/v9/interactions/1/tok/callback".
	Path          string
	Authorization string
	ContentType   string
	Body          []byte
	// Status is what the fake answered; Injected is true when FailNext
	// made it fail.
	Status   int
	Injected bool
	At       time.Time
}

// Decode unmarshals the request's JSON body into v.
func (r Request) Decode(v any) error { return json.Unmarshal(r.Body, v) }

func (r Request) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.Method, r.Path, r.Status, r.Body)
}

// Identify is what the fake keeps of an IDENTIFY payload.
type Identify struct {
	Token          string           `json:"token"`
	Compress       bool             `json:"compress"`
	LargeThreshold int              `json:"large_threshold"`
	Shard          *[2]int          `json:"shard"`
	Intents        discordgo.Intent `json:"intents"`
}

// Server is a fake Discord. Create it with NewServer; the zero value is not
// usable. Its methods are safe for concurrent use.
type Server struct {
	// URL is the api_base to configure: "http://127.0.0.1:PORT/".
	URL string
	// GatewayURL is the gateway_url to configure: "ws://127.0.0.1:PORT/gateway".
	GatewayURL string
	// Token is the bot token REST calls must present as "Bot TOKEN".
	Token string
	// AppID and BotID are the application's and the bot user's snowflakes.
	AppID, BotID string
	// BotName is the bot user's name.
	BotName string

	hs        *httptest.Server
	heartbeat time.Duration
	upgrader  websocket.Upgrader
	ids       atomic.Int64

	mu           sync.Mutex
	changed      chan struct{} // closed and replaced on every state change
	requests     []Request
	files        map[string]file
	interactions map[string]*interaction // by token
	session      *session
	pending      []event // dispatched before the first READY
	conn         *gatewayConn
	identifies   []Identify
	resumes      int
	heartbeats   int
	lastAck      time.Time
	connects     int
	invalidate   bool
	disallowed   discordgo.Intent
	failNext     map[string]int // "METHOD /path" -> status to answer once
}

type file struct {
	contentType string
	data        []byte
}

type interaction struct {
	id, token string
	created   time.Time
	acked     bool
}

type event struct {
	Seq  int64
	Type string
	Data json.RawMessage
}

type session struct {
	id     string
	events []event // events[i].Seq == i+1
}

type gatewayConn struct {
	ws       *websocket.Conn
	wmu      sync.Mutex
	compress bool
	sent     int64 // highest sequence sent
	// beats counts the heartbeats acknowledged since READY or RESUMED.
	beats int
	done  chan struct{}
}

// NewServer starts a fake Discord on loopback. Close it when done.
func NewServer() *Server {
	s := &Server{
		Token:        "fake-token",
		AppID:        "900000000000000001",
		BotID:        "900000000000000002",
		BotName:      "captionbot",
		heartbeat:    5 * time.Second,
		changed:      make(chan struct{}),
		files:        map[string]file{},
		interactions: map[string]*interaction{},
		failNext:     map[string]int{},
	}
	s.ids.Store(1_000_000)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /gateway", s.serveGateway)
	mux.HandleFunc("GET /gateway/{$}", s.serveGateway) // discordgo adds a slash
	mux.HandleFunc("GET /api/v9/gateway", s.rest(false, s.getGateway))
	mux.HandleFunc("GET /api/v9/gateway/bot", s.rest(true, s.getGateway))
	mux.HandleFunc("GET /api/v9/users/@me", s.rest(true, s.getMe))
	mux.HandleFunc("PUT /api/v9/applications/{app}/commands", s.rest(true, s.putCommands))
	mux.HandleFunc("PUT /api/v9/applications/{app}/guilds/{guild}/commands", s.rest(true, s.putCommands))
	mux.HandleFunc("POST /api/v9/interactions/{id}/{token}/callback", s.rest(false, s.postCallback))
	mux.HandleFunc("PATCH /api/v9/webhooks/{app}/{token}/messages/{msg}", s.rest(false, s.patchWebhookMessage))
	mux.HandleFunc("POST /api/v9/webhooks/{app}/{token}", s.rest(false, s.postFollowup))
	mux.HandleFunc("POST /api/v9/channels/{channel}/messages", s.rest(true, s.postMessage))
	mux.HandleFunc("PATCH /api/v9/channels/{channel}/messages/{msg}", s.rest(true, s.patchMessage))
	mux.HandleFunc("POST /api/v9/channels/{channel}/typing", s.rest(true, s.postTyping))
	mux.HandleFunc("GET /attachments/{id}/{name}", s.getAttachment)
	mux.HandleFunc("/", s.rest(false, func(r *http.Request, _ []byte) (int, any) {
		return http.StatusNotFound, apiError(0, "404: Not Found")
	}))
	s.hs = httptest.NewServer(mux)
	s.URL = s.hs.URL + "/"
	s.GatewayURL = "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/gateway"
	return s
}

// SetHeartbeatInterval sets the interval HELLO announces to new connections
// (default 5s). discordgo sends its first heartbeat at once, then one per
// interval, and reconnects when no ACK came for five intervals. Keep it well
// above a second: discordgo's Close holds its lock for a second, and a
// heartbeat due in that second writes to the closed socket and makes the
// closed session reconnect.
func (s *Server) SetHeartbeatInterval(d time.Duration) {
	s.mu.Lock()
	s.heartbeat = d
	s.mu.Unlock()
}

// Close drops the gateway connection and stops the server.
func (s *Server) Close() {
	s.DropConnection()
	s.hs.CloseClientConnections()
	s.hs.Close()
}

// NewID returns a fresh snowflake-like ID.
func (s *Server) NewID() string { return strconv.FormatInt(s.ids.Add(1), 10) }

// AddFile serves data at a new attachment URL, which it returns.
func (s *Server) AddFile(name, contentType string, data []byte) string {
	id := s.NewID()
	s.mu.Lock()
	s.files[id+"/"+name] = file{contentType, data}
	s.mu.Unlock()
	return s.URL + "attachments/" + id + "/" + name
}

// Attachment adds data as a file and returns the attachment object Discord
// would put in a message or a command's resolved data.
func (s *Server) Attachment(name, contentType string, data []byte) *discordgo.MessageAttachment {
	u := s.AddFile(name, contentType, data)
	return &discordgo.MessageAttachment{
		ID: s.NewID(), URL: u, ProxyURL: u, Filename: name,
		ContentType: contentType, Size: len(data), Width: 64, Height: 64,
	}
}

// FailNext makes the next request with this method and path (e.g. "POST",
// "/api/v9/channels/5/messages") answer status: 429 with a retry_after of
// 10ms, otherwise a plain error body.
func (s *Server) FailNext(method, path string, status int) {
	s.mu.Lock()
	s.failNext[method+" "+path] = status
	s.mu.Unlock()
}

// Dispatch sends an event (op 0) on the gateway: now if a session is
// connected, else when the client identifies or resumes. data is marshalled
// to JSON. INTERACTION_CREATE dispatches also register the interaction, so
// its callback is accepted within InteractionWindow from now.
func (s *Server) Dispatch(eventType string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("discordtest: marshal %s: %v", eventType, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if eventType == "INTERACTION_CREATE" {
		var in struct{ ID, Token string }
		if err := json.Unmarshal(raw, &in); err == nil && in.Token != "" {
			s.interactions[in.Token] = &interaction{id: in.ID, token: in.Token, created: time.Now()}
		}
	}
	if s.session == nil {
		s.pending = append(s.pending, event{Type: eventType, Data: raw})
	} else {
		s.appendEventLocked(eventType, raw)
	}
	s.notifyLocked()
}

// DropConnection closes the gateway connection without a close frame, as a
// network failure would. The session stays resumable.
func (s *Server) DropConnection() {
	s.mu.Lock()
	c := s.conn
	s.conn = nil
	s.mu.Unlock()
	if c != nil {
		c.ws.Close()
	}
}

// InvalidateNextResume makes the next RESUME fail with INVALID_SESSION
// (d=false), so the client has to identify again and gets a new session;
// events it missed are lost, as on Discord.
func (s *Server) InvalidateNextResume() {
	s.mu.Lock()
	s.invalidate = true
	s.mu.Unlock()
}

// DisallowIntents makes IDENTIFY with any of these intents fail as Discord
// fails it for a privileged intent not switched on in the Developer Portal:
// close code 4014, "Disallowed intent(s).".
func (s *Server) DisallowIntents(in discordgo.Intent) {
	s.mu.Lock()
	s.disallowed = in
	s.mu.Unlock()
}

// Identifies returns the IDENTIFY payloads received so far.
func (s *Server) Identifies() []Identify {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Identify(nil), s.identifies...)
}

// Resumes returns how many RESUMEs succeeded.
func (s *Server) Resumes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resumes
}

// Heartbeats returns how many heartbeats the gateway acknowledged, and
// when it sent the last ACK.
func (s *Server) Heartbeats() (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.heartbeats, s.lastAck
}

// Requests returns the REST requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WaitFor waits until cond holds for the server's state, re-checking after
// every request and gateway change. It returns ctx's error if it never does.
func (s *Server) WaitFor(ctx context.Context, cond func(s *Server) bool) error {
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond(s) {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitRequest waits for the first request (in arrival order) that match
// accepts, skipping the first skip matches.
func (s *Server) WaitRequest(ctx context.Context, skip int, match func(Request) bool) (Request, error) {
	var found Request
	err := s.WaitFor(ctx, func(s *Server) bool {
		n := 0
		for _, r := range s.Requests() {
			if match(r) {
				if n == skip {
					found = r
					return true
				}
				n++
			}
		}
		return false
	})
	return found, err
}

// Ready reports whether a gateway connection is open and past READY/RESUMED.
func (s *Server) Ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil && s.session != nil
}

// Settled reports whether the open connection is past READY/RESUMED and has
// had a heartbeat acknowledged since. Wait for it after a reconnect before
// dispatching what must reach the new session: discordgo v0.29 can start
// the previous connection's heartbeat loop late, and when that loop's first
// beat fails on the dead socket it closes whichever connection is current
// and reconnects once more. A session that identifies again loses the
// events it had not received, as on Discord. The stale loop was started
// before the drop, so its beat comes before the new connection's first
// one unless the scheduler starves it for that long.
func (s *Server) Settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn != nil && s.session != nil && s.conn.beats > 0
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) appendEventLocked(eventType string, raw json.RawMessage) {
	s.session.events = append(s.session.events, event{Seq: int64(len(s.session.events) + 1), Type: eventType, Data: raw})
}

// ---- gateway ----

func (s *Server) serveGateway(w http.ResponseWriter, r *http.Request) {
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered
	}
	c := &gatewayConn{ws: ws, done: make(chan struct{})}
	defer func() {
		close(c.done)
		ws.Close()
		s.mu.Lock()
		if s.conn == c {
			s.conn = nil
		}
		s.notifyLocked()
		s.mu.Unlock()
	}()

	s.mu.Lock()
	hb := s.heartbeat
	s.connects++
	s.mu.Unlock()
	if err := c.write(map[string]any{"op": opHello, "d": map[string]any{"heartbeat_interval": hb.Milliseconds()}}); err != nil {
		return
	}
	if !s.handshake(c) {
		return
	}
	go s.pump(c)
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := ws.ReadJSON(&p); err != nil {
			return
		}
		switch p.Op {
		case opHeartbeat:
			if s.ack(c) != nil {
				return
			}
		case opIdentify: // after INVALID_SESSION on a live connection
			if !s.identify(c, p.D) {
				return
			}
		}
	}
}

// ack answers a heartbeat.
func (s *Server) ack(c *gatewayConn) error {
	s.mu.Lock()
	s.heartbeats++
	c.beats++
	s.lastAck = time.Now()
	s.notifyLocked()
	s.mu.Unlock()
	return c.write(map[string]any{"op": opHeartbeatAck})
}

// handshake reads IDENTIFY or RESUME and answers READY, RESUMED or
// INVALID_SESSION (then waits for IDENTIFY).
func (s *Server) handshake(c *gatewayConn) bool {
	for {
		var p struct {
			Op int             `json:"op"`
			D  json.RawMessage `json:"d"`
		}
		if err := c.ws.ReadJSON(&p); err != nil {
			return false
		}
		switch p.Op {
		case opHeartbeat:
			if s.ack(c) != nil {
				return false
			}
		case opIdentify:
			return s.identify(c, p.D)
		case opResume:
			var rp struct {
				Token     string `json:"token"`
				SessionID string `json:"session_id"`
				Seq       int64  `json:"seq"`
			}
			if err := json.Unmarshal(p.D, &rp); err != nil {
				return false
			}
			s.mu.Lock()
			ok := !s.invalidate && s.session != nil && rp.SessionID == s.session.id &&
				rp.Token == "Bot "+s.Token && rp.Seq <= int64(len(s.session.events))
			s.invalidate = false
			if !ok {
				s.mu.Unlock()
				if c.write(map[string]any{"op": opInvalidSession, "d": false}) != nil {
					return false
				}
				continue // the client identifies next
			}
			s.resumes++
			c.sent = rp.Seq
			c.beats = 0
			s.conn = c
			// RESUMED comes after the replayed events; pump sends them all.
			s.appendEventLocked("RESUMED", json.RawMessage(`{}`))
			s.notifyLocked()
			s.mu.Unlock()
			return true
		default:
			return false
		}
	}
}

func (s *Server) identify(c *gatewayConn, raw json.RawMessage) bool {
	var id Identify
	if err := json.Unmarshal(raw, &id); err != nil || id.Token != "Bot "+s.Token {
		// Discord closes with 4004 Authentication failed.
		c.wmu.Lock()
		c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4004, "Authentication failed."))
		c.wmu.Unlock()
		return false
	}
	s.mu.Lock()
	s.identifies = append(s.identifies, id)
	if id.Intents&s.disallowed != 0 {
		s.notifyLocked()
		s.mu.Unlock()
		c.wmu.Lock()
		c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4014, "Disallowed intent(s)."))
		c.wmu.Unlock()
		return false
	}
	sess := &session{id: "session-" + s.NewID()}
	ready, _ := json.Marshal(discordgo.Ready{
		Version:     9,
		SessionID:   sess.id,
		User:        &discordgo.User{ID: s.BotID, Username: s.BotName, Bot: true},
		Shard:       id.Shard,
		Application: &discordgo.Application{ID: s.AppID},
		Guilds:      []*discordgo.Guild{},
	})
	s.session = sess
	s.appendEventLocked("READY", ready)
	for _, e := range s.pending {
		s.appendEventLocked(e.Type, e.Data)
	}
	s.pending = nil
	c.compress = id.Compress
	c.sent = 0
	c.beats = 0
	s.conn = c
	s.notifyLocked()
	s.mu.Unlock()
	return true
}

// pump sends the session's events the connection has not had yet, in order.
func (s *Server) pump(c *gatewayConn) {
	for {
		s.mu.Lock()
		ch := s.changed
		var next []event
		if s.conn == c && s.session != nil {
			next = append(next, s.session.events[c.sent:]...)
		}
		s.mu.Unlock()
		for _, e := range next {
			if err := c.write(map[string]any{"op": opDispatch, "s": e.Seq, "t": e.Type, "d": e.Data}); err != nil {
				return
			}
			s.mu.Lock()
			c.sent = e.Seq
			s.mu.Unlock()
		}
		if len(next) > 0 {
			continue
		}
		select {
		case <-ch:
		case <-c.done:
			return
		}
	}
}

// write sends one payload: text JSON, or a zlib-compressed binary frame for
// dispatches when the client asked for compression.
func (c *gatewayConn) write(v map[string]any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if c.compress && v["op"] == opDispatch {
		var buf bytes.Buffer
		zw := zlib.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return c.ws.WriteMessage(websocket.BinaryMessage, buf.Bytes())
	}
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// ---- REST ----

type handler func(r *http.Request, body []byte) (status int, response any)

// rest wraps a handler: it reads the body, checks the bot token when auth is
// set, applies FailNext, records the request and writes the JSON answer.
func (s *Server) rest(auth bool, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(http.MaxBytesReader(w, r.Body, 8<<20))
		req := Request{
			Method: r.Method, Path: r.URL.Path, Authorization: r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"), Body: body.Bytes(), At: time.Now(),
		}
		var status int
		var resp any
		s.mu.Lock()
		fail, failing := s.failNext[r.Method+" "+r.URL.Path]
		delete(s.failNext, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		switch {
		case failing && fail == http.StatusTooManyRequests:
			status, resp = fail, map[string]any{"message": "You are being rate limited.", "retry_after": 0.01, "global": false}
		case failing:
			status, resp = fail, apiError(0, http.StatusText(fail))
		case auth && req.Authorization != "Bot "+s.Token:
			status, resp = http.StatusUnauthorized, apiError(0, "401: Unauthorized")
		default:
			status, resp = h(r, req.Body)
		}
		req.Status, req.Injected = status, failing
		s.mu.Lock()
		s.requests = append(s.requests, req)
		s.notifyLocked()
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(resp)
	}
}

func apiError(code int, msg string) map[string]any {
	return map[string]any{"code": code, "message": msg}
}

func (s *Server) getGateway(r *http.Request, _ []byte) (int, any) {
	return http.StatusOK, map[string]any{"url": s.GatewayURL, "shards": 1,
		"session_start_limit": map[string]int{"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}}
}

func (s *Server) getMe(r *http.Request, _ []byte) (int, any) {
	return http.StatusOK, discordgo.User{ID: s.BotID, Username: s.BotName, Bot: true}
}

func (s *Server) putCommands(r *http.Request, body []byte) (int, any) {
	if r.PathValue("app") != s.AppID {
		return http.StatusForbidden, apiError(50001, "Missing Access")
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(body, &cmds); err != nil {
		return http.StatusBadRequest, apiError(50035, "Invalid Form Body")
	}
	for _, c := range cmds {
		if c.Name == "" || utf8.RuneCountInString(c.Name) > 32 {
			return http.StatusBadRequest, apiError(50035, "Invalid Form Body: name")
		}
		if c.Type != discordgo.MessageApplicationCommand && c.Type != discordgo.UserApplicationCommand &&
			(c.Description == "" || utf8.RuneCountInString(c.Description) > 100) {
			return http.StatusBadRequest, apiError(50035, "Invalid Form Body: description")
		}
		c.ID = s.NewID()
		c.ApplicationID = s.AppID
		c.GuildID = r.PathValue("guild")
	}
	return http.StatusOK, cmds
}

// messageBody is the part of a message payload (callback data, webhook
// edit or execute, channel message) the fake checks. Components stay raw:
// discordgo's own types cannot decode them.
type messageBody struct {
	Content          *string         `json:"content"`
	Components       json.RawMessage `json:"components"`
	Embeds           json.RawMessage `json:"embeds"`
	Flags            int             `json:"flags"`
	MessageReference json.RawMessage `json:"message_reference"`
	Choices          json.RawMessage `json:"choices"`
}

// component is what the fake checks of a message component.
type component struct {
	Type       discordgo.ComponentType `json:"type"`
	CustomID   string                  `json:"custom_id"`
	URL        string                  `json:"url"`
	Label      string                  `json:"label"`
	Options    []json.RawMessage       `json:"options"`
	Components []component             `json:"components"`
}

// check validates content and components as Discord does: content of at
// most MaxContent characters; at most 5 action rows of 1 to 5 buttons or
// one select menu; custom IDs of 1 to 100 characters; labels of at most 80;
// select menus with 1 to 25 options.
func (m *messageBody) check() (int, any) {
	bad := func(why string) (int, any) {
		return http.StatusBadRequest, apiError(50035, "Invalid Form Body: "+why)
	}
	if m.Content != nil && utf8.RuneCountInString(*m.Content) > MaxContent {
		return bad("content: Must be 2000 or fewer in length.")
	}
	if len(m.Components) == 0 || string(m.Components) == "null" {
		return 0, nil
	}
	var rows []component
	if err := json.Unmarshal(m.Components, &rows); err != nil {
		return bad("components: " + err.Error())
	}
	if len(rows) > 5 {
		return bad("components: at most 5 rows")
	}
	for _, row := range rows {
		if row.Type != discordgo.ActionsRowComponent || len(row.Components) < 1 || len(row.Components) > 5 {
			return bad("components: rows hold 1 to 5 components")
		}
		for _, c := range row.Components {
			switch c.Type {
			case discordgo.ButtonComponent:
				if (c.URL == "") == (c.CustomID == "") || len(c.CustomID) > 100 || utf8.RuneCountInString(c.Label) > 80 {
					return bad("components: button needs a custom_id (1-100) or a url, and a label of at most 80")
				}
			case discordgo.SelectMenuComponent:
				if len(row.Components) != 1 || c.CustomID == "" || len(c.CustomID) > 100 || len(c.Options) < 1 || len(c.Options) > 25 {
					return bad("components: a select menu fills its row, with a custom_id (1-100) and 1 to 25 options")
				}
			default:
				return bad(fmt.Sprintf("components: unexpected type %d", c.Type))
			}
		}
	}
	return 0, nil
}

// sent is the message object the fake answers with.
func (s *Server) sent(id, channel string, m messageBody) map[string]any {
	msg := map[string]any{"id": id, "channel_id": channel, "author": map[string]any{"id": s.BotID, "bot": true}}
	if m.Content != nil {
		msg["content"] = *m.Content
	}
	if len(m.Components) > 0 {
		msg["components"] = m.Components
	}
	return msg
}

// Callback types Discord accepts as a first response.
var callbackTypes = map[discordgo.InteractionResponseType]bool{
	discordgo.InteractionResponseChannelMessageWithSource:         true,
	discordgo.InteractionResponseDeferredChannelMessageWithSource: true,
	discordgo.InteractionResponseDeferredMessageUpdate:            true,
	discordgo.InteractionResponseUpdateMessage:                    true,
	discordgo.InteractionApplicationCommandAutocompleteResult:     true,
	discordgo.InteractionResponseModal:                            true,
}

func (s *Server) postCallback(r *http.Request, body []byte) (int, any) {
	var resp struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data *messageBody                      `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || !callbackTypes[resp.Type] {
		return http.StatusBadRequest, apiError(50035, "Invalid Form Body")
	}
	if resp.Data != nil {
		if st, e := resp.Data.check(); st != 0 {
			return st, e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.interactions[r.PathValue("token")]
	switch {
	case in == nil || in.id != r.PathValue("id"):
		return http.StatusNotFound, apiError(10062, "Unknown interaction")
	case in.acked:
		return http.StatusBadRequest, apiError(40060, "Interaction has already been acknowledged.")
	case time.Since(in.created) > InteractionWindow:
		return http.StatusNotFound, apiError(10062, "Unknown interaction")
	}
	in.acked = true
	return http.StatusNoContent, nil
}

// acked reports whether a webhook token belongs to an acknowledged
// interaction; follow-ups and edits need one.
func (s *Server) acked(app, token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	in := s.interactions[token]
	return app == s.AppID && in != nil && in.acked
}

// decodeMessage reads and checks a message payload.
func decodeMessage(body []byte) (messageBody, int, any) {
	var m messageBody
	if err := json.Unmarshal(body, &m); err != nil {
		return m, http.StatusBadRequest, apiError(50035, "Invalid Form Body")
	}
	st, e := m.check()
	return m, st, e
}

func (s *Server) patchWebhookMessage(r *http.Request, body []byte) (int, any) {
	if !s.acked(r.PathValue("app"), r.PathValue("token")) {
		return http.StatusNotFound, apiError(10015, "Unknown Webhook")
	}
	m, st, e := decodeMessage(body)
	if st != 0 {
		return st, e
	}
	id := r.PathValue("msg")
	if id == "@original" {
		id = s.NewID()
	}
	return http.StatusOK, s.sent(id, "", m)
}

func (s *Server) postFollowup(r *http.Request, body []byte) (int, any) {
	if !s.acked(r.PathValue("app"), r.PathValue("token")) {
		return http.StatusNotFound, apiError(10015, "Unknown Webhook")
	}
	m, st, e := decodeMessage(body)
	if st != 0 {
		return st, e
	}
	if m.Content == nil || *m.Content == "" {
		return http.StatusBadRequest, apiError(50006, "Cannot send an empty message")
	}
	return http.StatusOK, s.sent(s.NewID(), "", m)
}

func (s *Server) postMessage(r *http.Request, body []byte) (int, any) {
	m, st, e := decodeMessage(body)
	if st != 0 {
		return st, e
	}
	if (m.Content == nil || *m.Content == "") && len(m.Embeds) == 0 {
		return http.StatusBadRequest, apiError(50006, "Cannot send an empty message")
	}
	return http.StatusOK, s.sent(s.NewID(), r.PathValue("channel"), m)
}

func (s *Server) patchMessage(r *http.Request, body []byte) (int, any) {
	m, st, e := decodeMessage(body)
	if st != 0 {
		return st, e
	}
	return http.StatusOK, s.sent(r.PathValue("msg"), r.PathValue("channel"), m)
}

func (s *Server) postTyping(r *http.Request, _ []byte) (int, any) {
	return http.StatusNoContent, nil
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.files[r.PathValue("id")+"/"+r.PathValue("name")]
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, At: time.Now(), Status: map[bool]int{true: 200, false: 404}[ok]})
	s.notifyLocked()
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	w.Write(f.data)
}
