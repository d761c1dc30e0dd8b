package discord

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

func TestSplitMessage(t *testing.T) {
	if got := splitMessage("  "); !cmp.Equal(got, []string{"…"}) {
		t.Errorf("blank post = %q, want …", got)
	}
	long := strings.Repeat("é", MaxMessage+5)
	if got := splitMessage(long); len(got) != 2 || utf8.RuneCountInString(got[0]) != MaxMessage {
		t.Errorf("%d parts of a post one message too long", len(got))
	}
}

func TestFit(t *testing.T) {
	if got := fit("short"); got != "short" {
		t.Errorf("fit(short) = %q", got)
	}
	got := fit(strings.Repeat("ü", MaxMessage+50))
	if n := utf8.RuneCountInString(got); n != MaxMessage || !strings.HasSuffix(got, "…") {
		t.Errorf("fit(long) has %d characters, suffix %q", n, got[len(got)-3:])
	}
}

func TestPostButtonsRoundTrip(t *testing.T) {
	res := bot.Result{Settings: bot.Settings{Network: "instagram", Tone: "witty", Language: "de"}, Variant: 2}
	comps := postComponents("1234567890123456789", res)
	var ids, labels []string
	for _, row := range comps {
		r := row.(discordgo.ActionsRow)
		if len(r.Components) > 5 {
			t.Errorf("row with %d buttons", len(r.Components))
		}
		for _, c := range r.Components {
			b := c.(discordgo.Button)
			if len(b.CustomID) > 100 {
				t.Errorf("custom ID %q is over 100 characters", b.CustomID)
			}
			ids, labels = append(ids, b.CustomID), append(labels, b.Label)
		}
	}
	if len(ids) != len(bot.Networks)+1 { // Regenerate, tone, every other network
		t.Fatalf("got buttons %q, want %d", labels, len(bot.Networks)+1)
	}
	regen, ok := postAction(ids[0])
	want := bot.PostAction{Kind: bot.ActionRegenerate, Photo: "1234567890123456789", Network: "instagram", Tone: "witty", Language: "de", Variant: 3}
	if !ok || regen != want {
		t.Errorf("Regenerate = %+v %v, want %+v", regen, ok, want)
	}
	if tone, ok := postAction(ids[1]); !ok || tone.Tone != bot.NextTone("witty") || labels[1] != "Tone: "+tone.Tone {
		t.Errorf("tone button %q = %+v %v", labels[1], tone, ok)
	}
	other, ok := postAction(ids[2])
	if !ok || other.Network == "instagram" || other.Variant != 0 || other.Tone != "witty" {
		t.Errorf("network button = %+v %v", other, ok)
	}
	if postComponents("", res) != nil {
		t.Error("buttons without a photo key")
	}
}

func TestPostActionNeedsAnAttachmentID(t *testing.T) {
	for _, a := range []bot.PostAction{
		{Kind: bot.ActionRegenerate, Network: "x"},
		{Kind: bot.ActionRegenerate, Photo: "abc", Network: "x"},
	} {
		if got, ok := postAction(a.Data()); ok {
			t.Errorf("postAction(%q) = %+v, want rejected", a.Data(), got)
		}
	}
	if _, ok := postAction(customIDSetPrefix + "network"); ok {
		t.Error("a settings menu taken for a post button")
	}
}

func TestIsImageAndRefusal(t *testing.T) {
	b := &Bot{cfg: Config{MaxAttachmentBytes: 1 << 20}}
	for _, tc := range []struct {
		att  discordgo.MessageAttachment
		want string
	}{
		{discordgo.MessageAttachment{Filename: "a.png", ContentType: "image/png", Size: 10, URL: "u"}, ""},
		{discordgo.MessageAttachment{Filename: "a", ContentType: "image/jpeg; charset=binary", Size: 10, URL: "u"}, ""},
		{discordgo.MessageAttachment{Filename: "A.WEBP", Size: 10, URL: "u"}, ""},
		{discordgo.MessageAttachment{Filename: "a.gif", ContentType: "IMAGE/GIF", Size: 10, URL: "u"}, ""},
		{discordgo.MessageAttachment{Filename: "a.pdf", ContentType: "application/pdf", Size: 10, URL: "u"}, bot.UserMessage(bot.ErrUnsupportedFile)},
		{discordgo.MessageAttachment{Filename: "a.png", ContentType: "image/svg+xml", Size: 10, URL: "u"}, bot.UserMessage(bot.ErrUnsupportedFile)},
		{discordgo.MessageAttachment{Filename: "a.heic", Size: 10, URL: "u"}, bot.UserMessage(bot.ErrUnsupportedFile)},
		{discordgo.MessageAttachment{Filename: "a.png", ContentType: "image/png", Size: 2 << 20, URL: "u"}, bot.UserMessage(&bot.FileTooLargeError{Limit: 1 << 20})},
	} {
		if got := b.refusal(&tc.att); got != tc.want {
			t.Errorf("refusal(%+v) = %q, want %q", tc.att, got, tc.want)
		}
	}
	if got := b.refusal(&discordgo.MessageAttachment{Filename: "a.png", ContentType: "image/png", Size: 2 << 20, URL: "u"}); !strings.Contains(got, "(the limit is 1 MB)") {
		t.Errorf("too large text %q does not name the configured limit", got)
	}
}

func TestCommandRequestScopes(t *testing.T) {
	for _, tc := range []struct {
		name       string
		w          who
		args       string
		wantGroup  bool
		wantAdmin  bool
		wantChatID string
	}{
		{"dm", who{user: "u", chat: "dm"}, "x", false, false, "dm"},
		{"manager sets guild default", who{user: "u", chat: "g", guild: true, admin: true}, "x", true, true, "g"},
		{"member sets own", who{user: "u", chat: "g", guild: true}, "x", false, false, "g"},
		{"member views guild", who{user: "u", chat: "g", guild: true}, "", true, false, "g"},
	} {
		req := commandRequest(tc.w, "network", tc.args)
		if req.Group != tc.wantGroup || req.Admin != tc.wantAdmin || req.ChatID != tc.wantChatID || req.Platform != Platform {
			t.Errorf("%s: request %+v", tc.name, req)
		}
	}
	i := &discordgo.Interaction{GuildID: "g", ChannelID: "c",
		Member: &discordgo.Member{User: &discordgo.User{ID: "u"}, Permissions: discordgo.PermissionAdministrator}}
	if w := interactionWho(i); !w.admin || w.chat != "g" || !w.guild || w.user != "u" {
		t.Errorf("administrator: %+v", w)
	}
	i = &discordgo.Interaction{ChannelID: "c", User: &discordgo.User{ID: "u"}}
	if w := interactionWho(i); w.admin || w.chat != "c" || w.guild || w.user != "u" {
		t.Errorf("dm: %+v", w)
	}
}

func TestPhotoStoreExpiresAndBounds(t *testing.T) {
	now := time.Unix(1000, 0)
	p := newPhotoStore(time.Minute, 3)
	p.now = func() time.Time { return now }
	p.put("a", "ua")
	if u, ok := p.get("a"); !ok || u != "ua" {
		t.Fatalf("get(a) = %q %v", u, ok)
	}
	now = now.Add(2 * time.Minute)
	if _, ok := p.get("a"); ok {
		t.Error("expired entry still returned")
	}
	for _, k := range []string{"b", "c", "d", "e"} {
		p.put(k, "u"+k)
	}
	if len(p.m) > 3 {
		t.Errorf("store holds %d entries, bound is 3", len(p.m))
	}
	if u, ok := p.get("e"); !ok || u != "ue" {
		t.Errorf("newest entry lost: %q %v", u, ok)
	}
}

func TestHintOf(t *testing.T) {
	b := &Bot{}
	if got := b.hintOf("<@123>  make it <@!456> fun\n"); got != "make it fun" {
		t.Errorf("hintOf = %q", got)
	}
}
