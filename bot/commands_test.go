package bot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/bot/bottest"
	"github.com/google/go-cmp/cmp"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		text   string
		want   bot.Command
		wantOK bool
	}{
		{"/start", bot.Command{Name: "start"}, true},
		{"/Network  LinkedIn ", bot.Command{Name: "network", Args: "LinkedIn"}, true},
		{"/style@CaptionBot x", bot.Command{Name: "network", Args: "x"}, true},
		{"/help@otherbot", bot.Command{}, false},
		{"/caption\nat the beach", bot.Command{Name: "caption", Args: "at the beach"}, true},
		{"hello", bot.Command{}, false},
		{"/", bot.Command{}, false},
		{"/ünïcode", bot.Command{}, false},
		{"/language de", bot.Command{Name: "lang", Args: "de"}, true},
	}
	for _, tt := range tests {
		got, ok := bot.ParseCommand(tt.text, "captionbot")
		if ok != tt.wantOK || got != tt.want {
			t.Errorf("ParseCommand(%q) = %+v, %v; want %+v, %v", tt.text, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/start", "/network@bot x", "/caption\nhint", "/@", "/a@b@c d", "/hashtags 99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cmd, ok := bot.ParseCommand(text, "bot")
		if !ok {
			return
		}
		if cmd.Name == "" || cmd.Name != strings.ToLower(cmd.Name) || strings.TrimSpace(cmd.Args) != cmd.Args {
			t.Errorf("ParseCommand(%q) = %+v", text, cmd)
		}
		// Whatever parses must get an answer, never a panic.
		s := newService(&bottest.Describer{}, &bottest.Refiner{}, &bottest.Preferences{})
		if r := s.HandleCommand(context.Background(), bot.CommandRequest{Platform: "t", ChatID: "1", UserID: "1", Command: cmd}); r.Text == "" {
			t.Errorf("empty reply to %+v", cmd)
		}
	})
}

func TestHandleCommand(t *testing.T) {
	ctx := context.Background()
	p := &bottest.Preferences{}
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, p)
	priv := func(name, args string) bot.CommandRequest {
		return bot.CommandRequest{Platform: "t", ChatID: "7", UserID: "7", Command: bot.Command{Name: name, Args: args}}
	}
	group := func(admin bool, name, args string) bot.CommandRequest {
		return bot.CommandRequest{Platform: "t", ChatID: "-100", UserID: "7", Group: true, Admin: admin, Command: bot.Command{Name: name, Args: args}}
	}
	server := func(r bot.CommandRequest) bot.CommandRequest { r.Place = "server"; return r }
	tests := []struct {
		name     string
		req      bot.CommandRequest
		contains string
		choices  bool
	}{
		{"start names default network", priv("start", ""), "Instagram", false},
		{"help lists every command", priv("help", ""), "/hashtags [0-30]", false},
		{"privacy", priv("privacy", ""), "never stored", false},
		{"network menu", priv("network", ""), "Current network: Instagram", true},
		{"tone menu", priv("tone", ""), "Current tone", true},
		{"set network", priv("network", "LinkedIn"), "Done: your posts will be written for LinkedIn", false},
		{"alias", priv("network", "twitter"), "written for X", false},
		{"bad network", priv("network", "myspace"), "/help", false},
		{"set tone", priv("tone", "witty"), "sound witty", false},
		{"bad tone", priv("tone", "angry"), "/help", false},
		{"set lang", priv("lang", "pt-BR"), `"pt"`, false},
		{"bad lang", priv("lang", "klingon"), "such as ar, bn", false},
		{"unknown two-letter lang", priv("lang", "zz"), `"zz" isn't a language code I know`, false},
		{"set hashtags", priv("hashtags", "0"), "up to 0 hashtags", false},
		{"too many hashtags", priv("hashtags", "31"), "0 to 30", false},
		{"settings", priv("settings", ""), "Network: X (Twitter)\nTone: witty\nLanguage: pt\nHashtags: 0", false},
		{"reset tone", priv("tone", "reset"), "back to the network's default", false},
		{"unknown", priv("frobnicate", ""), "I don't know /frobnicate. See /help", false},
		{"group non-admin refused", group(false, "network", "x"), "only this group's admins", false},
		{"group admin sets chat", group(true, "network", "facebook"), "this group's posts will be written for Facebook", false},
		{"group settings", group(false, "settings", ""), "Settings in this group:\nNetwork: Facebook", false},
		{"server non-admin refused", server(group(false, "tone", "witty")), "only this server's admins", false},
		{"server admin sets chat", server(group(true, "tone", "witty")), "this server's posts will sound witty", false},
		{"server reset", server(group(true, "tone", "reset")), "this server's tone is back", false},
		{"server settings", server(group(false, "settings", "")), "Settings in this server:\nNetwork: Facebook", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.HandleCommand(ctx, tt.req)
			if !strings.Contains(r.Text, tt.contains) {
				t.Errorf("reply %q does not contain %q", r.Text, tt.contains)
			}
			if tt.req.Place == "server" && strings.Contains(r.Text, "group") {
				t.Errorf("reply %q in a server speaks of a group", r.Text)
			}
			if (r.Choices != nil) != tt.choices {
				t.Errorf("choices = %+v", r.Choices)
			}
			if r.Changed != strings.HasPrefix(r.Text, "Done") {
				t.Errorf("Changed = %v for %q", r.Changed, r.Text)
			}
		})
	}
	got, _ := p.Get(ctx, bot.PrefKey{Platform: "t", Scope: bot.ScopeUser, ID: "7"})
	zero := 0
	if diff := cmp.Diff(bot.Settings{Network: "x", Language: "pt", Hashtags: &zero}, got); diff != "" {
		t.Errorf("stored user settings (-want +got):\n%s", diff)
	}
	p.SetErr = errors.New("disk full")
	if r := s.HandleCommand(ctx, priv("tone", "fun")); !strings.Contains(r.Text, "couldn't save") || strings.Contains(r.Text, "disk") {
		t.Errorf("store failure reply %q", r.Text)
	}
}

func TestExportImportPreferences(t *testing.T) {
	ctx := context.Background()
	src := &bottest.Preferences{}
	three := 3
	_ = src.Set(ctx, bot.PrefKey{Platform: "telegram", Scope: bot.ScopeUser, ID: "1"}, bot.Settings{Network: "x", Hashtags: &three})
	_ = src.Set(ctx, bot.PrefKey{Platform: "discord", Scope: bot.ScopeChat, ID: "99"}, bot.Settings{Tone: "fun"})
	var buf bytes.Buffer
	n, err := bot.ExportPreferences(ctx, src, &buf)
	if err != nil || n != 2 {
		t.Fatalf("export: %d, %v", n, err)
	}
	dst := &bottest.Preferences{}
	if n, err := bot.ImportPreferences(ctx, dst, bytes.NewReader(buf.Bytes())); err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	collect := func(p bot.Preferences) map[bot.PrefKey]bot.Settings {
		m := map[bot.PrefKey]bot.Settings{}
		_ = p.Each(ctx, func(k bot.PrefKey, s bot.Settings) error { m[k] = s; return nil })
		return m
	}
	if diff := cmp.Diff(collect(src), collect(dst)); diff != "" {
		t.Errorf("round trip (-src +dst):\n%s", diff)
	}

	for _, bad := range []string{
		`not json`,
		`{"version":2,"records":[]}`,
		`{"version":1,"records":[{"platform":"t","scope":"alien","id":"1","settings":{}}]}`,
		`{"version":1,"records":[{"platform":"t","scope":"user","id":"1","settings":{"network":"myspace"}}]}`,
		`{"version":1,"records":[{"platform":"t","scope":"user","id":"1","settings":{"hashtags":99}}]}`,
	} {
		if _, err := bot.ImportPreferences(ctx, &bottest.Preferences{}, strings.NewReader(bad)); !errors.Is(err, bot.ErrBadBackup) {
			t.Errorf("import %s: err = %v, want ErrBadBackup", bad, err)
		}
	}
}

func TestUserMessage(t *testing.T) {
	secret := errors.New("dial tcp 10.0.0.1: token=abc")
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{bot.ErrBusy, "busy"},
		{&bot.RateLimitError{Scope: "user", RetryAfter: 1500 * 1e6}, "2 seconds"},
		{bot.ErrFileTooLarge, "too big for me to download"},
		{&bot.FileTooLargeError{Limit: 20 << 20}, "(the limit is 20 MB)"},
		{fmt.Errorf("download attachment: %w", &bot.FileTooLargeError{Limit: 8 << 20}), "(the limit is 8 MB)"},
		{bot.ErrUnsupportedFile, "JPEG, PNG, WebP or GIF"},
		{bot.ErrCorruptImage, "damaged"},
		{bot.ErrImageTooLarge, "too large"},
		{bot.ErrImageTooSmall, "no pixels"},
		{bot.ErrStopped, "restarting"},
		{secret, "Sorry, something went wrong"},
	}
	for _, tt := range tests {
		got := bot.UserMessage(tt.err)
		if (tt.want == "" && got != "") || !strings.Contains(got, tt.want) || strings.Contains(got, "token") {
			t.Errorf("UserMessage(%v) = %q, want it to contain %q", tt.err, got, tt.want)
		}
	}
}

func TestFileTooLargeError(t *testing.T) {
	err := fmt.Errorf("getFile: %w", &bot.FileTooLargeError{Limit: 25 << 20})
	if !errors.Is(err, bot.ErrFileTooLarge) {
		t.Errorf("errors.Is(%v, ErrFileTooLarge) = false", err)
	}
	if !strings.Contains(err.Error(), "25 MB") {
		t.Errorf("error %q does not name the limit", err)
	}
	// Without a limit the message names none, and no platform's.
	for _, e := range []error{bot.ErrFileTooLarge, &bot.FileTooLargeError{}} {
		if msg := bot.UserMessage(e); strings.Contains(msg, "MB") || strings.Contains(msg, "limit") {
			t.Errorf("UserMessage(%v) = %q names a limit", e, msg)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{20 << 20: "20 MB", 3 << 19: "1.5 MB", 512 << 10: "512 KB", 10: "1 KB"} {
		if got := bot.HumanBytes(n); got != want {
			t.Errorf("HumanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMoveChatSettings(t *testing.T) {
	ctx := context.Background()
	p := &bottest.Preferences{}
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, p)
	chat := func(id string) bot.PrefKey { return bot.PrefKey{Platform: "t", Scope: bot.ScopeChat, ID: id} }
	five := 5
	if err := p.Set(ctx, chat("-5"), bot.Settings{Network: "x", Tone: "witty", Hashtags: &five}); err != nil {
		t.Fatal(err)
	}
	// Something was already chosen in the new chat: it wins.
	if err := p.Set(ctx, chat("-1005"), bot.Settings{Tone: "formal"}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second move finds nothing to move
		if err := s.MoveChatSettings(ctx, "t", "-5", "-1005"); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := p.Get(ctx, chat("-1005"))
	if diff := cmp.Diff(bot.Settings{Network: "x", Tone: "formal", Hashtags: &five}, got); diff != "" {
		t.Errorf("new chat's settings (-want +got):\n%s", diff)
	}
	if old, _ := p.Get(ctx, chat("-5")); old != (bot.Settings{}) {
		t.Errorf("old chat still has %+v", old)
	}
	if err := s.MoveChatSettings(ctx, "t", "", "-1005"); !errors.Is(err, bot.ErrBadPrefKey) {
		t.Errorf("move from an empty ID: err = %v, want ErrBadPrefKey", err)
	}
	p.GetErr = errors.New("disk on fire")
	if err := s.MoveChatSettings(ctx, "t", "-1005", "-2005"); err == nil {
		t.Error("a store failure was not reported")
	}
}

// hostileArgs are command arguments an attacker sends: long, right-to-left
// marks and overrides, control characters, zero-width characters.
var hostileArgs = []string{
	strings.Repeat("a", 10_000),
	strings.Repeat("\u200f", 6_000),
	strings.Repeat("\u202e\U0001F600", 3_000),
	"x\x00\x1b[31m\u2066evil\u2069\u200b\ufeff",
	strings.Repeat("𝔸", 5_000),
}

// checkReply fails when a reply would be refused by a platform (Telegram:
// 4096 UTF-16 units, Discord: 2000 characters) or carries control, bidi or
// zero-width characters.
func checkReply(t *testing.T, text string) {
	t.Helper()
	if n := utf8.RuneCountInString(text); n > bot.MaxReply {
		t.Errorf("reply of %d characters, over %d", n, bot.MaxReply)
	}
	if n := len(utf16.Encode([]rune(text))); n > 4096 {
		t.Errorf("reply of %d UTF-16 units, over Telegram's 4096", n)
	}
	for _, r := range text {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			t.Errorf("reply carries %U: %.80q", r, text)
			return
		}
	}
}

// Every command reply fits both platforms' limits and repeats no unsafe
// input, whatever the argument.
func TestCommandRepliesFitAndAreSafe(t *testing.T) {
	ctx := context.Background()
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, &bottest.Preferences{})
	for _, c := range append(bot.Commands, bot.CommandInfo{Name: "frobnicate"}) {
		for _, arg := range hostileArgs {
			for _, group := range []bool{false, true} {
				r := s.HandleCommand(ctx, bot.CommandRequest{Platform: "t", ChatID: "7", UserID: "7", Group: group, Admin: true,
					Command: bot.Command{Name: c.Name, Args: arg}})
				checkReply(t, r.Text)
			}
		}
	}
	r := s.HandleCommand(ctx, bot.CommandRequest{Platform: "t", ChatID: "7", UserID: "7", Command: bot.Command{Name: "network", Args: strings.Repeat("a", 10_000)}})
	if !strings.Contains(r.Text, `"aaaa`) || !strings.Contains(r.Text, `…"`) || utf8.RuneCountInString(r.Text) > 300 {
		t.Errorf("long argument quoted as %q", r.Text)
	}
}

func TestQuoteInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"myspace", `"myspace"`},
		{"a\u202eb\u200fc\x00d\ne", `"abcd e"`},
		{strings.Repeat("é", 50), `"` + strings.Repeat("é", 40) + `…"`},
	}
	for _, tt := range tests {
		if got := bot.QuoteInput(tt.in); got != tt.want {
			t.Errorf("QuoteInput(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCommandReply(f *testing.F) {
	for _, a := range hostileArgs {
		f.Add("network", a)
	}
	f.Add("lang", "zz")
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, &bottest.Preferences{})
	f.Fuzz(func(t *testing.T, name, args string) {
		r := s.HandleCommand(context.Background(), bot.CommandRequest{Platform: "t", ChatID: "7", UserID: "7",
			Command: bot.Command{Name: name, Args: args}})
		checkReply(t, r.Text)
	})
}

// A language stored before /lang checked ISO 639-1 codes ("zz") gives way
// to the default instead of failing every photo.
func TestStoredUnknownLanguageFallsBack(t *testing.T) {
	ctx := context.Background()
	p := &bottest.Preferences{}
	_ = p.Set(ctx, bot.PrefKey{Platform: "t", Scope: bot.ScopeUser, ID: "7"}, bot.Settings{Language: "zz", Tone: "witty"})
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, p)
	if eff := s.Effective(ctx, "t", "7", "7", false); eff.Language != "en" || eff.Tone != "witty" {
		t.Errorf("effective settings %+v, want language en and tone witty", eff)
	}
}

// An old backup with a language that is no longer accepted still imports;
// that language goes back to the default.
func TestImportOldBackupWithUnknownLanguage(t *testing.T) {
	ctx := context.Background()
	dst := &bottest.Preferences{}
	old := `{"version":1,"records":[{"platform":"t","scope":"user","id":"1","settings":{"language":"zz","tone":"fun"}}]}`
	if n, err := bot.ImportPreferences(ctx, dst, strings.NewReader(old)); err != nil || n != 1 {
		t.Fatalf("import: %d, %v", n, err)
	}
	got, _ := dst.Get(ctx, bot.PrefKey{Platform: "t", Scope: bot.ScopeUser, ID: "1"})
	if got != (bot.Settings{Tone: "fun"}) {
		t.Errorf("imported %+v, want tone fun and no language", got)
	}
}

// /help tells users that posts carry no links or contact details, so they
// know to add their own (the refiner removes them from LLM drafts).
func TestHelpSaysNoLinks(t *testing.T) {
	s := newService(&bottest.Describer{}, &bottest.Refiner{}, &bottest.Preferences{})
	r := s.HandleCommand(context.Background(), bot.CommandRequest{Platform: "t", ChatID: "1", UserID: "1", Command: bot.Command{Name: "help"}})
	for _, w := range []string{"links", "phone numbers", "@handles", "add your own"} {
		if !strings.Contains(r.Text, w) {
			t.Errorf("/help does not mention %q:\n%s", w, r.Text)
		}
	}
}
