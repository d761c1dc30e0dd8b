package discord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

func TestSplitMessage(t *testing.T) {
	for _, tc := range []struct {
		name  string
		text  string
		limit int
		want  []string
	}{
		{"fits", "short post", 20, []string{"short post"}},
		{"empty", "  ", 20, []string{"…"}},
		{"paragraph", "first paragraph here\n\nsecond one", 25, []string{"first paragraph here", "second one"}},
		{"line", "line one is long\nline two", 20, []string{"line one is long", "line two"}},
		{"word", "aaaa bbbb cccc dddd", 10, []string{"aaaa bbbb", "cccc dddd"}},
		{"no break", strings.Repeat("x", 25), 10, []string{strings.Repeat("x", 10), strings.Repeat("x", 10), strings.Repeat("x", 5)}},
		{"runes not bytes", strings.Repeat("é", 15), 10, []string{strings.Repeat("é", 10), strings.Repeat("é", 5)}},
		{"break too early is ignored", "a " + strings.Repeat("y", 20), 10, []string{"a yyyyyyyy", strings.Repeat("y", 10), "yy"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := splitMessage(tc.text, tc.limit)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("splitMessage (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzSplitMessage(f *testing.F) {
	for _, s := range []string{"", "a b c", "word\n\nword", strings.Repeat("é ", 50), "🙂🙂🙂🙂"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, text string, limit int) {
		if limit < 1 || limit > 100 || !utf8.ValidString(text) {
			return
		}
		parts := splitMessage(text, limit)
		if len(parts) == 0 {
			t.Fatal("no parts")
		}
		var words []string
		for _, p := range parts {
			if n := utf8.RuneCountInString(p); n > limit || n == 0 {
				t.Fatalf("part %q has %d characters (limit %d)", p, n, limit)
			}
			words = append(words, p)
		}
		// Nothing but whitespace at the cuts is lost.
		if strings.TrimSpace(text) != "" && strings.Join(strings.Fields(strings.Join(words, "")), "") != strings.Join(strings.Fields(text), "") {
			t.Fatalf("parts %q lost text of %q", parts, text)
		}
	})
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
	var ids []string
	for _, row := range comps {
		r := row.(discordgo.ActionsRow)
		if len(r.Components) > 5 {
			t.Errorf("row with %d buttons", len(r.Components))
		}
		for _, c := range r.Components {
			b := c.(discordgo.Button)
			if len(b.CustomID) > maxCustomID {
				t.Errorf("custom ID %q is over %d characters", b.CustomID, maxCustomID)
			}
			ids = append(ids, b.CustomID)
		}
	}
	if len(ids) != len(bot.Networks) { // Regenerate + every other network
		t.Fatalf("got %d buttons, want %d", len(ids), len(bot.Networks))
	}
	regen, ok := parsePostButton(ids[0])
	if want := (postRef{photo: "1234567890123456789", network: "instagram", tone: "witty", lang: "de", variant: 3}); !ok || regen != want {
		t.Errorf("Regenerate = %+v %v, want %+v", regen, ok, want)
	}
	other, ok := parsePostButton(ids[1])
	if !ok || other.network == "instagram" || other.variant != 0 || other.tone != "witty" {
		t.Errorf("network button = %+v %v", other, ok)
	}
	if postComponents("", res) != nil {
		t.Error("buttons without a photo key")
	}
}

func TestParsePostButtonRejectsForgeries(t *testing.T) {
	for _, id := range []string{
		"", "cb", "cb|r|1|instagram||en", "xx|r|1|instagram||en|0", "cb|z|1|instagram||en|0",
		"cb|r|abc|instagram||en|0", "cb|r||instagram||en|0", "cb|r|1|myspace||en|0", "cb|r|1|instagram|angry|en|0",
		"cb|r|1|instagram||english|0", "cb|r|1|instagram||en|-1", "cb|r|1|instagram||en|99999", "cb|r|1|instagram||en|x",
		"cb|r|1|instagram||en|0|extra", customIDSetPrefix + "network",
	} {
		if ref, ok := parsePostButton(id); ok {
			t.Errorf("parsePostButton(%q) = %+v, want rejected", id, ref)
		}
	}
}

func FuzzParsePostButton(f *testing.F) {
	f.Add("cb|r|123|instagram|fun|en|0")
	f.Add("cb|n|9|x|||0")
	f.Add("cb|set|network")
	f.Fuzz(func(t *testing.T, id string) {
		ref, ok := parsePostButton(id)
		if !ok {
			return
		}
		if _, err := bot.ParseNetwork(ref.network); err != nil || ref.photo == "" || ref.variant < 0 {
			t.Fatalf("accepted %q as %+v", id, ref)
		}
	})
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
		{discordgo.MessageAttachment{Filename: "a.png", ContentType: "image/png", Size: 2 << 20, URL: "u"}, bot.UserMessage(b.tooLarge())},
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

func TestRedactHidesInteractionToken(t *testing.T) {
	base := fmt.Errorf(`Post "http://x/api/v9/webhooks/1/secret-tok": %w`, context.DeadlineExceeded)
	err := redact(base, "secret-tok")
	if strings.Contains(err.Error(), "secret-tok") || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("redact = %q (Is deadline: %v)", err, errors.Is(err, context.DeadlineExceeded))
	}
	if redact(nil, "x") != nil || redact(base, "") != base {
		t.Error("redact changed what it should leave alone")
	}
}
