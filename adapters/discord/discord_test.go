package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/captionbot/captionbot/adapters/discord/discordtest"
	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
)

// harness runs a Bot against a fake Discord, with bottest fakes for
// captioning. Tests in this package share discordgo's global endpoints, so
// they do not run in parallel.
type harness struct {
	t     *testing.T
	srv   *discordtest.Server
	svc   *bot.Service
	desc  *bottest.Describer
	ref   *bottest.Refiner
	prefs *bottest.Preferences
	bot   *Bot
	ids   int

	stopOnce sync.Once
	cancel   context.CancelFunc
	runErr   chan error
}

type option func(*Config, *bot.Service, *bottest.Describer, *bottest.Refiner)

func start(t *testing.T, opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, srv: discordtest.NewServer(), desc: &bottest.Describer{}, ref: &bottest.Refiner{},
		prefs: &bottest.Preferences{}, runErr: make(chan error, 1)}
	t.Cleanup(h.srv.Close)
	t.Cleanup(func() {
		if err := SetAPIBase(DefaultAPIBase); err != nil {
			t.Error(err)
		}
	})
	h.svc = bot.NewService(h.desc, h.ref, h.prefs)
	h.svc.Workers = 2
	h.svc.Log = quietLog(t)
	cfg := Config{
		Token: h.srv.Token, ApplicationID: h.srv.AppID,
		APIBase: h.srv.URL, GatewayURL: h.srv.GatewayURL,
		Log: quietLog(t),
	}
	for _, o := range opts {
		o(&cfg, h.svc, h.desc, h.ref)
	}
	if err := h.svc.Start(); err != nil {
		t.Fatal(err)
	}
	b, err := New(cfg, h.svc)
	if err != nil {
		t.Fatal(err)
	}
	h.bot = b
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- b.Run(ctx) }()
	t.Cleanup(h.checkNoRESTErrors) // runs after stop
	t.Cleanup(h.stop)
	h.waitRequest("command registration", func(r discordtest.Request) bool {
		return r.Method == "PUT" && strings.HasSuffix(r.Path, "/commands")
	})
	h.wait("gateway ready", func(s *discordtest.Server) bool { return s.Ready() && b.botUserID() != "" })
	return h
}

// stop ends Run (closing the gateway) and shuts the service down.
func (h *harness) stop() {
	h.stopOnce.Do(func() {
		h.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.svc.Shutdown(ctx); err != nil {
			h.t.Errorf("service shutdown: %v", err)
		}
		select {
		case err := <-h.runErr:
			if err != nil {
				h.t.Errorf("Run = %v, want nil", err)
			}
		case <-time.After(15 * time.Second):
			h.t.Error("Run did not return after its context ended")
		}
	})
}

// checkNoRESTErrors fails the test when the adapter made a request the fake
// Discord refused (other than failures the test injected).
func (h *harness) checkNoRESTErrors() {
	for _, r := range h.srv.Requests() {
		if r.Status >= 400 && !r.Injected {
			h.t.Errorf("Discord refused a request: %s", r)
		}
	}
}

func quietLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *harness) wait(what string, cond func(*discordtest.Server) bool) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.srv.WaitFor(ctx, cond); err != nil {
		h.t.Fatalf("waiting for %s: %v\nrequests:\n%s", what, err, h.dump())
	}
}

func (h *harness) waitRequest(what string, match func(discordtest.Request) bool) discordtest.Request {
	h.t.Helper()
	return h.waitNthRequest(what, 0, match)
}

func (h *harness) waitNthRequest(what string, skip int, match func(discordtest.Request) bool) discordtest.Request {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := h.srv.WaitRequest(ctx, skip, match)
	if err != nil {
		h.t.Fatalf("waiting for %s: %v\nrequests:\n%s", what, err, h.dump())
	}
	return r
}

func (h *harness) dump() string {
	var b strings.Builder
	for _, r := range h.srv.Requests() {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}

func (h *harness) id() string {
	h.ids++
	return h.srv.NewID()
}

// photo is a small real PNG.
func photo(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	guildID   = "700000000000000001"
	channelID = "700000000000000002"
	dmChannel = "700000000000000003"
	userID    = "700000000000000010"
)

// interaction builds an interaction from userID: in the guild when member
// permissions are given (>= 0), else in a DM.
func (h *harness) interaction(typ discordgo.InteractionType, data discordgo.InteractionData, perms int64) *discordgo.Interaction {
	i := &discordgo.Interaction{ID: h.id(), AppID: h.srv.AppID, Type: typ, Data: data, Token: "tok-" + h.id(), Version: 1}
	if perms >= 0 {
		i.GuildID, i.ChannelID = guildID, channelID
		i.Member = &discordgo.Member{User: &discordgo.User{ID: userID, Username: "ann"}, Permissions: perms}
	} else {
		i.ChannelID = dmChannel
		i.User = &discordgo.User{ID: userID, Username: "ann"}
	}
	return i
}

const inDM = -1

func (h *harness) slashCaption(att *discordgo.MessageAttachment, perms int64, extra ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	opts := append([]*discordgo.ApplicationCommandInteractionDataOption{
		{Name: "image", Type: discordgo.ApplicationCommandOptionAttachment, Value: att.ID},
	}, extra...)
	return h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: "caption", CommandType: discordgo.ChatApplicationCommand, Options: opts,
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Attachments: map[string]*discordgo.MessageAttachment{att.ID: att}},
	}, perms)
}

func (h *harness) slashSetting(name, value string, perms int64) *discordgo.Interaction {
	data := discordgo.ApplicationCommandInteractionData{ID: h.id(), Name: name, CommandType: discordgo.ChatApplicationCommand}
	if value != "" {
		data.Options = []*discordgo.ApplicationCommandInteractionDataOption{{Name: "name", Type: discordgo.ApplicationCommandOptionString, Value: value}}
	}
	return h.interaction(discordgo.InteractionApplicationCommand, data, perms)
}

func stringOpt(name, value string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: value}
}

func (h *harness) dispatchInteraction(i *discordgo.Interaction) {
	h.srv.Dispatch("INTERACTION_CREATE", i)
}

func isCallback(i *discordgo.Interaction) func(discordtest.Request) bool {
	return func(r discordtest.Request) bool {
		return r.Method == "POST" && r.Path == "/api/v9/interactions/"+i.ID+"/"+i.Token+"/callback"
	}
}

func isOriginalEdit(i *discordgo.Interaction) func(discordtest.Request) bool {
	return func(r discordtest.Request) bool {
		return r.Method == "PATCH" && r.Path == "/api/v9/webhooks/"+i.AppID+"/"+i.Token+"/messages/@original"
	}
}

func isFollowup(i *discordgo.Interaction) func(discordtest.Request) bool {
	return func(r discordtest.Request) bool {
		return r.Method == "POST" && r.Path == "/api/v9/webhooks/"+i.AppID+"/"+i.Token
	}
}

func isChannelMessage(channel string) func(discordtest.Request) bool {
	return func(r discordtest.Request) bool {
		return r.Method == "POST" && r.Path == "/api/v9/channels/"+channel+"/messages"
	}
}

// callbackBody is an interaction callback as the tests read it (discordgo's
// own type cannot decode components).
type callbackBody struct {
	Type discordgo.InteractionResponseType `json:"type"`
	Data *struct {
		Content    string                 `json:"content"`
		Flags      discordgo.MessageFlags `json:"flags"`
		Components json.RawMessage        `json:"components"`
	} `json:"data"`
}

func (c callbackBody) hasComponents() bool {
	return c.Data != nil && len(c.Data.Components) > 0 && string(c.Data.Components) != "null" && string(c.Data.Components) != "[]"
}

// decode reads a request's JSON body as a T.
func decode[T any](t *testing.T, r discordtest.Request) T {
	t.Helper()
	var v T
	if err := r.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

// callback decodes an interaction callback.
func callback(t *testing.T, r discordtest.Request) callbackBody {
	t.Helper()
	return decode[callbackBody](t, r)
}

// sentMessage is the parts of an edit, follow-up or channel message the
// tests look at.
type sentMessage struct {
	Content    string `json:"content"`
	Flags      int    `json:"flags"`
	Components []struct {
		Components []struct {
			Type     int    `json:"type"`
			Label    string `json:"label"`
			CustomID string `json:"custom_id"`
		} `json:"components"`
	} `json:"components"`
	MessageReference *struct {
		MessageID string `json:"message_id"`
	} `json:"message_reference"`
	AllowedMentions *struct {
		Parse []string `json:"parse"`
	} `json:"allowed_mentions"`
}

// message decodes a message edit, follow-up or channel message.
func message(t *testing.T, r discordtest.Request) sentMessage {
	t.Helper()
	return decode[sentMessage](t, r)
}

// button returns the custom ID of the button labelled label.
func (m sentMessage) button(label string) string {
	for _, row := range m.Components {
		for _, c := range row.Components {
			if c.Label == label {
				return c.CustomID
			}
		}
	}
	return ""
}

func (m sentMessage) labels() []string {
	var l []string
	for _, row := range m.Components {
		for _, c := range row.Components {
			l = append(l, c.Label)
		}
	}
	return l
}

func index(reqs []discordtest.Request, match func(discordtest.Request) bool) int {
	for k, r := range reqs {
		if match(r) {
			return k
		}
	}
	return -1
}

func TestRegistersCommandsAndIdentifiesWithIntents(t *testing.T) {
	h := start(t)
	reg := h.waitRequest("registration", func(r discordtest.Request) bool { return r.Method == "PUT" })
	if want := "/api/v9/applications/" + h.srv.AppID + "/commands"; reg.Path != want {
		t.Errorf("registered at %s, want %s (global)", reg.Path, want)
	}
	var cmds []discordgo.ApplicationCommand
	if err := reg.Decode(&cmds); err != nil {
		t.Fatal(err)
	}
	names := map[string]discordgo.ApplicationCommandType{}
	for _, c := range cmds {
		names[c.Name] = c.Type
	}
	for _, n := range []string{"caption", "network", "tone", "lang", "hashtags", "settings"} {
		if _, ok := names[n]; !ok {
			t.Errorf("command /%s not registered", n)
		}
	}
	if names[ContextMenuName] != discordgo.MessageApplicationCommand {
		t.Errorf("context menu %q: type %d, want %d", ContextMenuName, names[ContextMenuName], discordgo.MessageApplicationCommand)
	}
	ids := h.srv.Identifies()
	want := discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsDirectMessages
	if len(ids) != 1 || ids[0].Intents != want || ids[0].Shard != nil {
		t.Errorf("identify = %+v, want intents %d and no shard", ids, want)
	}
	if reg.Authorization != "Bot "+h.srv.Token {
		t.Errorf("registration authorization = %q", reg.Authorization)
	}
	if index(h.srv.Requests(), func(r discordtest.Request) bool { return r.Path == "/api/v9/gateway" }) >= 0 {
		t.Error("asked GET /gateway although gateway_url is set")
	}
}

func TestGuildRegistrationMessageContentAndShard(t *testing.T) {
	h := start(t, func(c *Config, _ *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) {
		c.GuildID, c.MessageContent, c.ShardID, c.ShardCount = guildID, true, 1, 2
		c.GatewayURL = "" // found through GET {api_base}api/v9/gateway
	})
	h.waitRequest("gateway lookup", func(r discordtest.Request) bool { return r.Method == "GET" && r.Path == "/api/v9/gateway" })
	h.waitRequest("guild registration", func(r discordtest.Request) bool {
		return r.Method == "PUT" && r.Path == "/api/v9/applications/"+h.srv.AppID+"/guilds/"+guildID+"/commands"
	})
	ids := h.srv.Identifies()
	if len(ids) != 1 || ids[0].Intents&discordgo.IntentsMessageContent == 0 {
		t.Errorf("identify intents = %+v, want MESSAGE_CONTENT", ids)
	}
	if ids[0].Shard == nil || *ids[0].Shard != [2]int{1, 2} {
		t.Errorf("identify shard = %v, want [1 2]", ids[0].Shard)
	}
}

func TestSlashCaptionDefersThenEditsPost(t *testing.T) {
	// The captioner holds the photo until the test has seen the deferral:
	// the interaction is acknowledged while the work is still running.
	release := make(chan struct{})
	h := start(t, func(_ *Config, _ *bot.Service, d *bottest.Describer, _ *bottest.Refiner) {
		d.DescribeFunc = func(ctx context.Context, _ []byte) (bot.Description, error) {
			select {
			case <-release:
				return bottest.DefaultDescription, nil
			case <-ctx.Done():
				return bot.Description{}, ctx.Err()
			}
		}
	})
	att := h.srv.Attachment("dog.png", "image/png", photo(t))
	i := h.slashCaption(att, 0)
	dispatched := time.Now()
	h.dispatchInteraction(i)

	deferral := h.waitRequest("deferral", isCallback(i))
	if c := callback(t, deferral); c.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("callback type %d, want deferred (5)", c.Type)
	}
	if d := deferral.At.Sub(dispatched); d >= discordtest.InteractionWindow {
		t.Errorf("deferred after %v, want within %v", d, discordtest.InteractionWindow)
	}
	if k := index(h.srv.Requests(), isOriginalEdit(i)); k >= 0 {
		t.Fatalf("edited before the caption was written:\n%s", h.dump())
	}
	close(release)

	m := message(t, h.waitRequest("@original edit", isOriginalEdit(i)))
	if !strings.HasPrefix(m.Content, "[instagram//en/v0] a dog runs through the grass.") {
		t.Errorf("post = %q, want the instagram post", m.Content)
	}
	if m.button("Regenerate") == "" || m.button("LinkedIn") == "" || m.button("Instagram") != "" {
		t.Errorf("buttons = %v, want Regenerate and the other networks", m.labels())
	}
	if m.AllowedMentions == nil || len(m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions = %+v, want none", m.AllowedMentions)
	}
	if index(h.srv.Requests(), func(r discordtest.Request) bool { return strings.HasPrefix(r.Path, "/attachments/") }) < 0 {
		t.Error("the attachment was never downloaded")
	}
}

func TestRESTErrorsAreRetriedOrWorkedAround(t *testing.T) {
	h := start(t)
	// A 429 on the edit: discordgo waits retry_after and sends it again.
	i := h.slashCaption(h.srv.Attachment("dog.png", "image/png", photo(t)), 0)
	h.srv.FailNext("PATCH", "/api/v9/webhooks/"+h.srv.AppID+"/"+i.Token+"/messages/@original", 429)
	h.dispatchInteraction(i)
	edit := h.waitNthRequest("the retried edit", 1, isOriginalEdit(i))
	if edit.Status != 200 || !strings.Contains(message(t, edit).Content, "a dog runs") {
		t.Errorf("retried edit = %s", edit)
	}

	// The acknowledgement fails (the interaction expired): the post still
	// reaches the channel.
	j := h.slashCaption(h.srv.Attachment("cat.png", "image/png", photo(t)), 0)
	h.srv.FailNext("POST", "/api/v9/interactions/"+j.ID+"/"+j.Token+"/callback", 404)
	h.dispatchInteraction(j)
	sent := message(t, h.waitRequest("channel fallback", isChannelMessage(channelID)))
	if !strings.Contains(sent.Content, "a dog runs") || sent.button("Regenerate") == "" {
		t.Errorf("fallback message = %+v", sent)
	}
}

func TestSlashCaptionOptions(t *testing.T) {
	h := start(t)
	att := h.srv.Attachment("dog.jpg", "image/jpeg", photo(t))
	i := h.slashCaption(att, inDM, stringOpt("network", "x"), stringOpt("tone", "witty"),
		stringOpt("language", "DE"), stringOpt("hint", "at the beach"))
	h.dispatchInteraction(i)
	m := message(t, h.waitRequest("@original edit", isOriginalEdit(i)))
	if !strings.HasPrefix(m.Content, "[x/witty/de/v0]") {
		t.Errorf("post = %q, want x/witty/de", m.Content)
	}
	reqs := h.ref.Requests()
	if len(reqs) != 1 || reqs[0].Hint != "at the beach" {
		t.Errorf("refine requests = %+v, want the hint", reqs)
	}
}

func TestSlashCaptionBadOptionIsEphemeral(t *testing.T) {
	h := start(t)
	for _, opt := range []*discordgo.ApplicationCommandInteractionDataOption{
		stringOpt("language", "english"), stringOpt("network", "myspace"), stringOpt("tone", "angry"),
	} {
		i := h.slashCaption(h.srv.Attachment("p.png", "image/png", photo(t)), 0, opt)
		h.dispatchInteraction(i)
		c := callback(t, h.waitRequest("refusal", isCallback(i)))
		if c.Type != discordgo.InteractionResponseChannelMessageWithSource || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 ||
			!strings.Contains(c.Data.Content, opt.Value.(string)) {
			t.Errorf("%s=%v: callback %+v, want an ephemeral reply naming the value", opt.Name, opt.Value, c)
		}
	}
	if h.desc.Calls() != 0 {
		t.Error("a photo with a bad option was captioned")
	}
}

func TestContextMenuCaptionsTargetMessage(t *testing.T) {
	h := start(t)
	att := h.srv.Attachment("cat.webp", "image/webp", photo(t))
	target := &discordgo.Message{ID: h.id(), ChannelID: channelID, Attachments: []*discordgo.MessageAttachment{
		{ID: h.id(), Filename: "notes.txt", ContentType: "text/plain", URL: h.srv.URL + "x", Size: 10}, att}}
	i := h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: ContextMenuName, CommandType: discordgo.MessageApplicationCommand, TargetID: target.ID,
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Messages: map[string]*discordgo.Message{target.ID: target}},
	}, 0)
	h.dispatchInteraction(i)
	m := message(t, h.waitRequest("@original edit", isOriginalEdit(i)))
	if !strings.Contains(m.Content, "a dog runs through the grass") || m.button("Regenerate") == "" {
		t.Errorf("post = %+v", m)
	}
	if c := callback(t, h.waitRequest("callback", isCallback(i))); c.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("callback type %d, want 5", c.Type)
	}
}

func TestContextMenuWithoutImageIsEphemeral(t *testing.T) {
	h := start(t)
	target := &discordgo.Message{ID: h.id(), ChannelID: channelID, Content: "just words"}
	i := h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: ContextMenuName, CommandType: discordgo.MessageApplicationCommand, TargetID: target.ID,
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Messages: map[string]*discordgo.Message{target.ID: target}},
	}, 0)
	h.dispatchInteraction(i)
	c := callback(t, h.waitRequest("callback", isCallback(i)))
	if c.Type != discordgo.InteractionResponseChannelMessageWithSource || c.Data == nil ||
		c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 || !strings.Contains(c.Data.Content, "no photo") {
		t.Errorf("callback = %+v, want an ephemeral 'no photo' reply", c)
	}
}

func (h *harness) dmMessage(content string, atts ...*discordgo.MessageAttachment) *discordgo.Message {
	return &discordgo.Message{ID: h.id(), ChannelID: dmChannel, Content: content, Attachments: atts,
		Author: &discordgo.User{ID: userID, Username: "ann"}}
}

func (h *harness) guildMessage(content string, mention bool, atts ...*discordgo.MessageAttachment) *discordgo.Message {
	m := &discordgo.Message{ID: h.id(), ChannelID: channelID, GuildID: guildID, Content: content, Attachments: atts,
		Author: &discordgo.User{ID: userID, Username: "ann"}}
	if mention {
		m.Mentions = []*discordgo.User{{ID: h.srv.BotID, Username: h.srv.BotName, Bot: true}}
	}
	return m
}

func TestDMPhotoGetsPost(t *testing.T) {
	h := start(t)
	att := h.srv.Attachment("IMG_1.JPG", "", photo(t)) // no content type: the name decides
	m := h.dmMessage("", att)
	h.srv.Dispatch("MESSAGE_CREATE", m)
	sent := message(t, h.waitRequest("reply", isChannelMessage(dmChannel)))
	if !strings.HasPrefix(sent.Content, "[instagram//en/v0]") || sent.button("Regenerate") == "" {
		t.Errorf("reply = %+v, want the post with buttons", sent)
	}
	if sent.MessageReference == nil || sent.MessageReference.MessageID != m.ID {
		t.Errorf("reply references %+v, want message %s", sent.MessageReference, m.ID)
	}
	h.waitRequest("typing", func(r discordtest.Request) bool { return r.Path == "/api/v9/channels/"+dmChannel+"/typing" })
}

func TestImagesPastTheLimitAreNamedInTheReply(t *testing.T) {
	h := start(t)
	var atts []*discordgo.MessageAttachment
	for k := range MaxImagesPerMessage + 2 {
		atts = append(atts, h.srv.Attachment(fmt.Sprintf("p%d.png", k), "image/png", photo(t)))
	}
	m := h.dmMessage("", atts...)
	h.srv.Dispatch("MESSAGE_CREATE", m)
	// One post per captioned image, and one note about the rest.
	h.waitNthRequest("replies", MaxImagesPerMessage, isChannelMessage(dmChannel))
	time.Sleep(100 * time.Millisecond) // room for a wrong extra reply
	var posts, notes int
	for _, r := range h.srv.Requests() {
		if !isChannelMessage(dmChannel)(r) {
			continue
		}
		sent := message(t, r)
		switch {
		case strings.Contains(sent.Content, "a dog runs"):
			posts++
		case strings.Contains(sent.Content, "only the first 4 are captioned") && strings.Contains(sent.Content, "the other 2 images"):
			notes++
			if sent.MessageReference == nil || sent.MessageReference.MessageID != m.ID {
				t.Errorf("note references %+v, want message %s", sent.MessageReference, m.ID)
			}
		default:
			t.Errorf("unexpected reply %q", sent.Content)
		}
	}
	if posts != MaxImagesPerMessage || notes != 1 {
		t.Errorf("%d posts and %d notes, want %d and 1", posts, notes, MaxImagesPerMessage)
	}
	if n := h.desc.Calls(); n != MaxImagesPerMessage {
		t.Errorf("describer ran %d times, want %d", n, MaxImagesPerMessage)
	}
}

func TestSkippedNote(t *testing.T) {
	if got := skippedNote(1); !strings.Contains(got, "first 4") || !strings.Contains(got, "the other image ") {
		t.Errorf("skippedNote(1) = %q", got)
	}
}

func TestGuildPhotoWithoutMentionIsIgnoredMentionIsAnswered(t *testing.T) {
	// With MESSAGE_CONTENT the bot sees every photo in the server; it still
	// answers only the one that mentions it.
	for _, messageContent := range []bool{false, true} {
		t.Run(fmt.Sprintf("message_content=%v", messageContent), func(t *testing.T) {
			h := start(t, func(c *Config, _ *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) {
				c.MessageContent = messageContent
			})
			silent := h.guildMessage("look at this", false, h.srv.Attachment("a.png", "image/png", photo(t)))
			h.srv.Dispatch("MESSAGE_CREATE", silent)
			asked := h.guildMessage("<@"+h.srv.BotID+"> make it fun", true, h.srv.Attachment("b.png", "image/png", photo(t)))
			h.srv.Dispatch("MESSAGE_CREATE", asked)

			sent := message(t, h.waitRequest("reply to the mention", isChannelMessage(channelID)))
			if sent.MessageReference == nil || sent.MessageReference.MessageID != asked.ID {
				t.Fatalf("reply references %+v, want the mention %s", sent.MessageReference, asked.ID)
			}
			if !strings.Contains(sent.Content, "a dog runs") {
				t.Errorf("reply = %q", sent.Content)
			}
			if reqs := h.ref.Requests(); len(reqs) != 1 || reqs[0].Hint != "make it fun" {
				t.Errorf("refine requests = %+v, want one with the hint without the mention", reqs)
			}
			time.Sleep(200 * time.Millisecond) // give the unmentioned message every chance to be (wrongly) answered
			for _, r := range h.srv.Requests() {
				if strings.HasSuffix(r.Path, "/a.png") || (isChannelMessage(channelID)(r) && !strings.Contains(string(r.Body), asked.ID)) {
					t.Errorf("the unmentioned photo got a reaction: %s", r)
				}
			}
			if n := h.desc.Calls(); n != 1 {
				t.Errorf("describer ran %d times, want 1", n)
			}
		})
	}
}

func TestMentionInReplyUsesReferencedPhoto(t *testing.T) {
	h := start(t, func(c *Config, _ *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) { c.MessageContent = true })
	orig := h.guildMessage("", false, h.srv.Attachment("orig.png", "image/png", photo(t)))
	m := h.guildMessage("<@"+h.srv.BotID+">", true)
	m.MessageReference = &discordgo.MessageReference{MessageID: orig.ID, ChannelID: channelID}
	m.ReferencedMessage = orig
	h.srv.Dispatch("MESSAGE_CREATE", m)
	sent := message(t, h.waitRequest("reply", isChannelMessage(channelID)))
	if !strings.Contains(sent.Content, "a dog runs") {
		t.Errorf("reply = %q, want a post for the referenced photo", sent.Content)
	}
	h.waitRequest("download", func(r discordtest.Request) bool { return strings.HasSuffix(r.Path, "/orig.png") })
}

func TestMessagesWithoutPhotoGetAHint(t *testing.T) {
	h := start(t) // no MESSAGE_CONTENT
	// A mention in a reply to someone's photo: without the intent, Discord
	// blanks the replied-to message's attachments.
	orig := h.guildMessage("", false)
	reply := h.guildMessage("<@"+h.srv.BotID+">", true)
	reply.MessageReference = &discordgo.MessageReference{MessageID: orig.ID, ChannelID: channelID}
	reply.ReferencedMessage = orig
	bare := h.guildMessage("<@"+h.srv.BotID+"> hi", true)
	dm := h.dmMessage("hello")
	for _, tc := range []struct {
		m    *discordgo.Message
		want string
	}{
		{reply, "I can't see the photo in the message you replied to"},
		{bare, "Attach a photo when you mention me"},
		{dm, "Send me a photo"},
	} {
		h.srv.Dispatch("MESSAGE_CREATE", tc.m)
		sent := message(t, h.waitRequest("hint", func(r discordtest.Request) bool {
			return isChannelMessage(tc.m.ChannelID)(r) && strings.Contains(string(r.Body), `"message_id":"`+tc.m.ID+`"`)
		}))
		if !strings.HasPrefix(sent.Content, tc.want) {
			t.Errorf("hint = %q, want it to start %q", sent.Content, tc.want)
		}
		if tc.m != dm && !strings.Contains(sent.Content, ContextMenuName) {
			t.Errorf("hint = %q, want it to name %q", sent.Content, ContextMenuName)
		}
	}
	if h.desc.Calls() != 0 {
		t.Error("something was captioned")
	}
}

func TestPDFGetsFriendlyRefusal(t *testing.T) {
	h := start(t)
	pdf := h.srv.Attachment("report.pdf", "application/pdf", []byte("%PDF-1.4 ..."))
	h.srv.Dispatch("MESSAGE_CREATE", h.dmMessage("", pdf))
	sent := message(t, h.waitRequest("refusal", isChannelMessage(dmChannel)))
	if sent.Content != bot.UserMessage(bot.ErrUnsupportedFile) {
		t.Errorf("DM refusal = %q", sent.Content)
	}

	i := h.slashCaption(pdf, 0)
	h.dispatchInteraction(i)
	c := callback(t, h.waitRequest("callback", isCallback(i)))
	if c.Type != discordgo.InteractionResponseChannelMessageWithSource || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 ||
		c.Data.Content != bot.UserMessage(bot.ErrUnsupportedFile) {
		t.Errorf("slash refusal = %+v, want ephemeral", c)
	}
	target := &discordgo.Message{ID: h.id(), ChannelID: channelID, Attachments: []*discordgo.MessageAttachment{pdf}}
	menu := h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: ContextMenuName, CommandType: discordgo.MessageApplicationCommand, TargetID: target.ID,
		Resolved: &discordgo.ApplicationCommandInteractionDataResolved{Messages: map[string]*discordgo.Message{target.ID: target}},
	}, 0)
	h.dispatchInteraction(menu)
	c = callback(t, h.waitRequest("context-menu callback", isCallback(menu)))
	if c.Type != discordgo.InteractionResponseChannelMessageWithSource || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 ||
		c.Data.Content != bot.UserMessage(bot.ErrUnsupportedFile) {
		t.Errorf("context-menu refusal = %+v, want ephemeral", c)
	}
	for _, r := range h.srv.Requests() {
		if strings.HasSuffix(r.Path, "report.pdf") {
			t.Error("the PDF was downloaded")
		}
	}
	if h.desc.Calls() != 0 {
		t.Error("the PDF reached the captioner")
	}
}

func TestTooLargeAttachmentRefused(t *testing.T) {
	h := start(t, func(c *Config, _ *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) {
		c.MaxAttachmentBytes = 1 << 20
	})
	big := h.srv.Attachment("big.png", "image/png", photo(t))
	big.Size = 3 << 20 // what Discord reports
	i := h.slashCaption(big, 0)
	h.dispatchInteraction(i)
	c := callback(t, h.waitRequest("callback", isCallback(i)))
	if c.Data == nil || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 || !strings.Contains(c.Data.Content, "1 MB") {
		t.Errorf("callback = %+v, want an ephemeral refusal naming the 1 MB limit", c)
	}

	// A file whose reported size lies is cut off while downloading.
	liar := h.srv.Attachment("liar.png", "image/png", bytes.Repeat([]byte{1}, 2<<20))
	liar.Size = 100
	j := h.slashCaption(liar, 0)
	h.dispatchInteraction(j)
	m := message(t, h.waitRequest("edit", isOriginalEdit(j)))
	if !strings.Contains(m.Content, "1 MB") || len(m.Components) != 0 {
		t.Errorf("edit = %+v, want the size refusal without buttons", m)
	}
}

func TestBadImageEditsApology(t *testing.T) {
	h := start(t, func(_ *Config, _ *bot.Service, d *bottest.Describer, _ *bottest.Refiner) {
		d.DescribeFunc = func(context.Context, []byte) (bot.Description, error) {
			return bot.Description{}, bot.ErrCorruptImage
		}
	})
	i := h.slashCaption(h.srv.Attachment("broken.jpg", "image/jpeg", []byte{0xff, 0xd8}), 0)
	h.dispatchInteraction(i)
	m := message(t, h.waitRequest("edit", isOriginalEdit(i)))
	if m.Content != bot.UserMessage(bot.ErrCorruptImage) {
		t.Errorf("edit = %q", m.Content)
	}
}

func TestRegenerateAndNetworkButtons(t *testing.T) {
	h := start(t)
	i := h.slashCaption(h.srv.Attachment("dog.png", "image/png", photo(t)), 0)
	h.dispatchInteraction(i)
	post := message(t, h.waitRequest("post", isOriginalEdit(i)))

	press := func(customID string) *discordgo.Interaction {
		c := h.interaction(discordgo.InteractionMessageComponent, discordgo.MessageComponentInteractionData{
			CustomID: customID, ComponentType: discordgo.ButtonComponent}, 0)
		c.Message = &discordgo.Message{ID: h.id(), ChannelID: channelID}
		h.dispatchInteraction(c)
		return c
	}
	regen := press(post.button("Regenerate"))
	m := message(t, h.waitRequest("regenerated post", isOriginalEdit(regen)))
	if !strings.HasPrefix(m.Content, "[instagram//en/v1]") {
		t.Errorf("regenerated = %q, want variant 1", m.Content)
	}
	if c := callback(t, h.waitRequest("ack", isCallback(regen))); c.Type != discordgo.InteractionResponseDeferredMessageUpdate {
		t.Errorf("button ack type %d, want 6", c.Type)
	}
	again := press(m.button("Regenerate"))
	if m2 := message(t, h.waitRequest("third version", isOriginalEdit(again))); !strings.HasPrefix(m2.Content, "[instagram//en/v2]") {
		t.Errorf("regenerated twice = %q, want variant 2", m2.Content)
	}

	li := press(post.button("LinkedIn"))
	m = message(t, h.waitRequest("linkedin post", isOriginalEdit(li)))
	if !strings.HasPrefix(m.Content, "[linkedin//en/v0]") || m.button("Instagram") == "" || m.button("LinkedIn") != "" {
		t.Errorf("linkedin post = %+v", m)
	}
	if n := h.desc.Calls(); n != 1 {
		t.Errorf("describer ran %d times, want 1 (the raw caption is cached)", n)
	}
	// A stale or forged button is still acknowledged, and does nothing else.
	bad := press("p|r|123|myspace||en|0")
	if c := callback(t, h.waitRequest("ack", isCallback(bad))); c.Type != discordgo.InteractionResponseDeferredMessageUpdate {
		t.Errorf("bad button ack type %d, want 6", c.Type)
	}
}

func TestButtonAfterPhotoExpired(t *testing.T) {
	h := start(t)
	c := h.interaction(discordgo.InteractionMessageComponent, discordgo.MessageComponentInteractionData{
		CustomID: bot.PostAction{Kind: bot.ActionRegenerate, Photo: "123456", Network: "instagram", Language: "en", Variant: 1}.Data(), ComponentType: discordgo.ButtonComponent}, 0)
	h.dispatchInteraction(c)
	f := message(t, h.waitRequest("follow-up", isFollowup(c)))
	if f.Content != bot.UserMessage(bot.ErrPhotoExpired) || f.Flags&int(discordgo.MessageFlagsEphemeral) == 0 {
		t.Errorf("follow-up = %+v, want an ephemeral 'send it again'", f)
	}
}

func TestSettingsCommands(t *testing.T) {
	h := start(t)
	ask := func(i *discordgo.Interaction) callbackBody {
		h.dispatchInteraction(i)
		c := callback(t, h.waitRequest("callback", isCallback(i)))
		if c.Data == nil || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 {
			t.Fatalf("settings reply %+v is not ephemeral", c)
		}
		return c
	}
	// DM: the user's own settings.
	if c := ask(h.slashSetting("network", "x", inDM)); !strings.HasPrefix(c.Data.Content, "Done") {
		t.Errorf("/network x = %q", c.Data.Content)
	}
	// Guild, member with Manage Server: the guild's default.
	if c := ask(h.slashSetting("tone", "witty", discordgo.PermissionManageGuild)); !strings.Contains(c.Data.Content, "this server's posts will sound witty") {
		t.Errorf("/tone witty by a manager = %q, want the guild's setting", c.Data.Content)
	}
	// Guild, plain member: their own settings, not the guild's.
	if c := ask(h.slashSetting("lang", "", 0)); c.hasComponents() {
		t.Errorf("/lang without a code shows a menu: %s", c.Data.Components)
	}
	lang := h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: "lang", Options: []*discordgo.ApplicationCommandInteractionDataOption{stringOpt("code", "fr")}}, 0)
	if c := ask(lang); !strings.Contains(c.Data.Content, "your posts") {
		t.Errorf("/lang fr by a member = %q, want their own setting", c.Data.Content)
	}
	ctx := context.Background()
	guild, _ := h.prefs.Get(ctx, bot.PrefKey{Platform: Platform, Scope: bot.ScopeChat, ID: guildID})
	user, _ := h.prefs.Get(ctx, bot.PrefKey{Platform: Platform, Scope: bot.ScopeUser, ID: userID})
	if guild.Tone != "witty" || guild.Language != "" || user.Network != "x" || user.Language != "fr" {
		t.Errorf("stored guild %+v, user %+v", guild, user)
	}
	hashtags := h.interaction(discordgo.InteractionApplicationCommand, discordgo.ApplicationCommandInteractionData{
		ID: h.id(), Name: "hashtags", Options: []*discordgo.ApplicationCommandInteractionDataOption{
			{Name: "count", Type: discordgo.ApplicationCommandOptionInteger, Value: 3.0}}}, inDM)
	if c := ask(hashtags); !strings.Contains(c.Data.Content, "3 hashtags") {
		t.Errorf("/hashtags 3 = %q", c.Data.Content)
	}
	// /settings in the guild shows what applies there: the guild's tone, the user's network.
	c := ask(h.slashSetting("settings", "", 0))
	for _, want := range []string{"Settings in this server", "X (Twitter)", "witty", "fr", "3"} {
		if !strings.Contains(c.Data.Content, want) {
			t.Errorf("/settings = %q, want it to mention %q", c.Data.Content, want)
		}
	}
	// A photo in the guild is written with those settings.
	i := h.slashCaption(h.srv.Attachment("p.png", "image/png", photo(t)), 0)
	h.dispatchInteraction(i)
	if m := message(t, h.waitRequest("post", isOriginalEdit(i))); !strings.HasPrefix(m.Content, "[x/witty/fr/v0]") {
		t.Errorf("post = %q, want x/witty/fr", m.Content)
	}
}

func TestNetworkMenu(t *testing.T) {
	h := start(t)
	i := h.slashSetting("network", "", inDM)
	h.dispatchInteraction(i)
	c := callback(t, h.waitRequest("menu", isCallback(i)))
	raw := c.Data.Components
	if !strings.Contains(string(raw), `"custom_id":"cb|set|network"`) || !strings.Contains(string(raw), "LinkedIn") {
		t.Fatalf("menu components = %s", raw)
	}
	sel := h.interaction(discordgo.InteractionMessageComponent, discordgo.MessageComponentInteractionData{
		CustomID: "cb|set|network", ComponentType: discordgo.SelectMenuComponent, Values: []string{"linkedin"}}, inDM)
	h.dispatchInteraction(sel)
	u := callback(t, h.waitRequest("update", isCallback(sel)))
	if u.Type != discordgo.InteractionResponseUpdateMessage || !strings.Contains(u.Data.Content, "LinkedIn") {
		t.Errorf("select answer = %+v, want an update naming LinkedIn", u)
	}
	st, _ := h.prefs.Get(context.Background(), bot.PrefKey{Platform: Platform, Scope: bot.ScopeUser, ID: userID})
	if st.Network != "linkedin" {
		t.Errorf("stored network %q", st.Network)
	}
}

func TestRateLimitedIsEphemeral(t *testing.T) {
	h := start(t, func(_ *Config, s *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) {
		s.UserRate, s.UserBurst = 0.001, 1
	})
	first := h.slashCaption(h.srv.Attachment("1.png", "image/png", photo(t)), inDM)
	h.dispatchInteraction(first)
	h.waitRequest("first post", isOriginalEdit(first))
	second := h.slashCaption(h.srv.Attachment("2.png", "image/png", photo(t)), inDM)
	h.dispatchInteraction(second)
	c := callback(t, h.waitRequest("refusal", isCallback(second)))
	if c.Type != discordgo.InteractionResponseChannelMessageWithSource || c.Data.Flags&discordgo.MessageFlagsEphemeral == 0 ||
		!strings.Contains(c.Data.Content, "faster than I can keep up") {
		t.Errorf("callback = %+v, want an ephemeral rate-limit reply", c)
	}
}

func TestLongPostIsSplit(t *testing.T) {
	long := strings.Repeat("word ", 900) // 4,500 characters
	h := start(t, func(_ *Config, _ *bot.Service, _ *bottest.Describer, r *bottest.Refiner) {
		r.RefineFunc = func(_ context.Context, req bot.RefineRequest) (bot.Post, error) {
			return bot.Post{Text: long, Network: req.Network, WrittenBy: "test"}, nil
		}
	})
	i := h.slashCaption(h.srv.Attachment("p.png", "image/png", photo(t)), 0)
	h.dispatchInteraction(i)
	first := message(t, h.waitRequest("edit", isOriginalEdit(i)))
	last := message(t, h.waitNthRequest("second follow-up", 1, isFollowup(i)))
	mid := message(t, h.waitRequest("first follow-up", isFollowup(i)))
	total := 0
	for k, m := range []sentMessage{first, mid, last} {
		n := len([]rune(m.Content))
		total += len(strings.Fields(m.Content))
		if n > MaxMessage {
			t.Errorf("part %d has %d characters", k, n)
		}
		if hasButtons := len(m.Components) > 0; hasButtons != (k == 2) {
			t.Errorf("part %d buttons = %v, want buttons only on the last part", k, m.labels())
		}
	}
	if total != 900 {
		t.Errorf("the parts hold %d words, want 900", total)
	}
}

func TestGatewayDropMidJobStillDelivers(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 4)
	h := start(t, func(_ *Config, _ *bot.Service, d *bottest.Describer, _ *bottest.Refiner) {
		d.DescribeFunc = func(ctx context.Context, _ []byte) (bot.Description, error) {
			started <- struct{}{}
			select {
			case <-release:
				return bottest.DefaultDescription, nil
			case <-ctx.Done():
				return bot.Description{}, ctx.Err()
			}
		}
	})
	i := h.slashCaption(h.srv.Attachment("p.png", "image/png", photo(t)), 0)
	h.dispatchInteraction(i)
	h.waitRequest("deferral", isCallback(i))
	<-started

	h.srv.DropConnection()
	dm := h.dmMessage("", h.srv.Attachment("while-down.png", "image/png", photo(t)))
	h.srv.Dispatch("MESSAGE_CREATE", dm) // sent while the client is away: replayed on RESUME
	h.wait("resume", func(s *discordtest.Server) bool { return s.Resumes() >= 1 && s.Ready() })
	close(release)

	m := message(t, h.waitRequest("post after the drop", isOriginalEdit(i)))
	if !strings.Contains(m.Content, "a dog runs") {
		t.Errorf("post = %q", m.Content)
	}
	sent := message(t, h.waitRequest("reply to the replayed DM", isChannelMessage(dmChannel)))
	if sent.MessageReference == nil || sent.MessageReference.MessageID != dm.ID {
		t.Errorf("reply = %+v, want one to the DM sent during the drop", sent)
	}
	if n := len(h.srv.Identifies()); n != 1 {
		t.Errorf("identified %d times, want 1 (resumed)", n)
	}
}

func TestInvalidSessionReidentifiesAndKeepsAnswering(t *testing.T) {
	h := start(t)
	h.srv.InvalidateNextResume()
	h.srv.DropConnection()
	h.wait("a new session", func(s *discordtest.Server) bool { return len(s.Identifies()) >= 2 && s.Settled() })
	h.srv.Dispatch("MESSAGE_CREATE", h.dmMessage("", h.srv.Attachment("p.png", "image/png", photo(t))))
	if sent := message(t, h.waitRequest("reply", isChannelMessage(dmChannel))); !strings.Contains(sent.Content, "a dog runs") {
		t.Errorf("reply = %q", sent.Content)
	}
}

func TestShutdownDeliversInFlightJob(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := start(t, func(_ *Config, _ *bot.Service, d *bottest.Describer, _ *bottest.Refiner) {
		d.DescribeFunc = func(ctx context.Context, _ []byte) (bot.Description, error) {
			started <- struct{}{}
			<-release
			return bottest.DefaultDescription, nil
		}
	})
	i := h.slashCaption(h.srv.Attachment("p.png", "image/png", photo(t)), inDM)
	h.dispatchInteraction(i)
	<-started
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	time.Sleep(100 * time.Millisecond)
	select {
	case <-stopped:
		t.Fatal("shutdown finished with a job in flight")
	default:
	}
	close(release)
	<-stopped
	m := message(t, h.waitRequest("post", isOriginalEdit(i)))
	if !strings.Contains(m.Content, "a dog runs") {
		t.Errorf("post = %q", m.Content)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	svc := bot.NewService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	for name, cfg := range map[string]Config{
		"no token":      {},
		"shard range":   {Token: "t", ShardID: 2, ShardCount: 2},
		"shard alone":   {Token: "t", ShardID: 1},
		"gateway http":  {Token: "t", GatewayURL: "http://x/"},
		"api base":      {Token: "t", APIBase: "discord.com"},
		"negative size": {Token: "t", MaxAttachmentBytes: -1},
	} {
		if _, err := New(cfg, svc); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	if _, err := New(Config{Token: "t"}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nil service: err = %v", err)
	}
	b, err := New(Config{Token: " Bot abc "}, svc)
	if err != nil || b.cfg.Token != "abc" || b.cfg.MaxAttachmentBytes != DefaultMaxAttachmentBytes {
		t.Errorf("New = %+v, %v; want the token without its prefix and the default size", b, err)
	}
}

func TestBadTokenFailsRun(t *testing.T) {
	srv := discordtest.NewServer()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { SetAPIBase(DefaultAPIBase) })
	svc := bot.NewService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	b, err := New(Config{Token: "wrong", APIBase: srv.URL, GatewayURL: srv.GatewayURL, Log: quietLog(t)}, svc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = b.Run(ctx)
	if err == nil {
		t.Fatal("Run with a bad token = nil, want an error")
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q contains the token", err)
	}
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4004 || !strings.Contains(err.Error(), "Reset Token") {
		t.Errorf("error %q: want the 4004 close, explained", err)
	}
}

func TestDisallowedMessageContentIsExplained(t *testing.T) {
	srv := discordtest.NewServer()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { SetAPIBase(DefaultAPIBase) })
	srv.DisallowIntents(discordgo.IntentsMessageContent) // not switched on in the Developer Portal
	svc := bot.NewService(&bottest.Describer{}, &bottest.Refiner{}, nil)
	b, err := New(Config{Token: srv.Token, ApplicationID: srv.AppID, MessageContent: true,
		APIBase: srv.URL, GatewayURL: srv.GatewayURL, Log: quietLog(t)}, svc)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Connect()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4014 {
		t.Fatalf("Connect = %v, want the 4014 close", err)
	}
	for _, want := range []string{"Message Content Intent", "Developer Portal", "message_content = false"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := index(srv.Requests(), func(r discordtest.Request) bool { return r.Method == "PUT" }); n >= 0 {
		t.Error("commands were registered although the gateway refused the bot")
	}
}

func TestApplicationIDFromReady(t *testing.T) {
	h := start(t, func(c *Config, _ *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) { c.ApplicationID = "" })
	reg := h.waitRequest("registration", func(r discordtest.Request) bool { return r.Method == "PUT" })
	if want := "/api/v9/applications/" + h.srv.AppID + "/commands"; reg.Path != want || reg.Status != 200 {
		t.Errorf("registration %s, want PUT %s with the application READY named", reg, want)
	}
}

// An interaction that carries another application's ID is not answered.
func TestForeignApplicationInteractionIgnored(t *testing.T) {
	h := start(t)
	foreign := h.slashSetting("settings", "", inDM)
	foreign.AppID = "900000000000000999"
	h.bot.onInteraction(foreign) // synchronous: an answer would be sent before it returns
	own := h.slashSetting("settings", "", inDM)
	h.dispatchInteraction(own)
	h.waitRequest("own callback", isCallback(own))
	for _, r := range h.srv.Requests() {
		if strings.Contains(r.Path, foreign.ID) || strings.Contains(r.Path, foreign.Token) {
			t.Errorf("answered a foreign interaction: %s %s", r.Method, r.Path)
		}
	}
}

// A burst of photos refused in a server channel gets one notice, not one
// per message or per sender.
func TestGuildRefusalNoticeOncePerBurst(t *testing.T) {
	h := start(t, func(_ *Config, s *bot.Service, _ *bottest.Describer, _ *bottest.Refiner) {
		s.ChatRate, s.ChatBurst = 0.001, 2
	})
	for k := range 5 {
		m := h.guildMessage("", true, h.srv.Attachment(fmt.Sprintf("%d.png", k), "image/png", photo(t)))
		m.Author.ID = fmt.Sprint(800000000000000000 + k%3)
		h.bot.onMessage(m) // synchronous: a refusal is answered before it returns
	}
	h.waitNthRequest("second post", 1, func(r discordtest.Request) bool {
		return isChannelMessage(channelID)(r) && strings.Contains(string(r.Body), "a dog runs")
	})
	notices := 0
	for _, r := range h.srv.Requests() {
		if isChannelMessage(channelID)(r) && strings.Contains(string(r.Body), "faster than I can keep up") {
			notices++
		}
	}
	if notices != 1 {
		t.Errorf("%d rate-limit notices for 3 refused photos in one burst, want 1", notices)
	}
}
