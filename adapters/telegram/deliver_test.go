package telegram

import (
	"strings"
	"testing"
	"unicode/utf8"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
)

func TestSplitText(t *testing.T) {
	emoji := strings.Repeat("😀", 3000) // 2 UTF-16 units each
	tests := []struct {
		name  string
		in    string
		limit int
		want  int
	}{
		{"short", "hello", 10, 1},
		{"exact", strings.Repeat("a", 10), 10, 1},
		{"words", "aaaa bbbb cccc dddd", 10, 2},
		{"paragraphs first", "aaaa\n\nbbbb cc", 10, 2},
		{"no spaces", strings.Repeat("a", 25), 10, 3},
		{"emoji counted as two", emoji, MaxMessage, 2},
		{"empty", "", 10, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitText(tt.in, tt.limit)
			if len(parts) != tt.want {
				t.Fatalf("%d parts %q, want %d", len(parts), parts, tt.want)
			}
			var all []string
			for _, p := range parts {
				if utf16Len(p) > tt.limit || p == "" || !utf8.ValidString(p) {
					t.Errorf("bad part %q (%d units)", p, utf16Len(p))
				}
				all = append(all, p)
			}
			if strings.Join(strings.Fields(strings.Join(all, " ")), "") != strings.Join(strings.Fields(tt.in), "") {
				t.Error("text lost")
			}
		})
	}
}

func FuzzSplitText(f *testing.F) {
	f.Add("hello world", 5)
	f.Add("😀😀😀 a\n\nb", 3)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 2 || limit > 5000 || !utf8.ValidString(s) {
			return
		}
		for _, p := range splitText(s, limit) {
			if utf16Len(p) > limit || p == "" {
				t.Fatalf("part %q over %d", p, limit)
			}
		}
	})
}

func TestCallbackDataFits(t *testing.T) {
	for _, n := range bot.Networks {
		for _, tone := range append([]string{""}, bot.Tones...) {
			st := postState{network: n, tone: tone, variant: 999999}
			kb := postKeyboard(st)
			for _, row := range kb.InlineKeyboard {
				for _, b := range row {
					if len(*b.CallbackData) > 64 {
						t.Errorf("callback_data %q is %d bytes", *b.CallbackData, len(*b.CallbackData))
					}
					if _, ok := parsePostState(*b.CallbackData); !ok {
						t.Errorf("own data %q does not parse", *b.CallbackData)
					}
				}
			}
		}
	}
	for _, bad := range []string{"", "p", "p|myspace||1", "p|x|angry|1", "p|x||-1", "p|x||abc", "s|network"} {
		if _, ok := parsePostState(bad); ok {
			t.Errorf("parsePostState(%q) accepted", bad)
		}
	}
	kb := choicesKeyboard(&bot.Choices{Setting: "network", Values: bot.Networks, Current: "x"})
	for _, row := range kb.InlineKeyboard {
		for _, b := range row {
			if len(*b.CallbackData) > 64 {
				t.Errorf("menu data %q too long", *b.CallbackData)
			}
		}
	}
}

func TestCommandRequestPlace(t *testing.T) {
	b := &Bot{}
	for _, tc := range []struct {
		chat      tgbotapi.Chat
		wantGroup bool
		wantPlace string
	}{
		{tgbotapi.Chat{ID: 7, Type: "private"}, false, "group"},
		{tgbotapi.Chat{ID: -5, Type: "group"}, true, "group"},
		{tgbotapi.Chat{ID: -1005, Type: "supergroup"}, true, "group"},
		{tgbotapi.Chat{ID: -1006, Type: "channel"}, true, "channel"},
	} {
		// The chat posts as itself (an anonymous admin, a channel's post):
		// no getChatAdministrators call is needed.
		req := b.commandRequest(t.Context(), &tc.chat, tc.chat.ID, &tc.chat, bot.Command{Name: "tone", Args: "witty"})
		if req.Group != tc.wantGroup || req.Place != tc.wantPlace || (tc.wantGroup && !req.Admin) {
			t.Errorf("%s chat: request %+v", tc.chat.Type, req)
		}
	}
}

func TestMentions(t *testing.T) {
	for _, tc := range []struct {
		text     string
		want     bool
		wantRest string
	}{
		{"@CaptionTestBot sunset", true, "sunset"},
		{"sunset @captiontestbot", true, "sunset"},
		{"Ünïcödé 🌅 İstanbul @CAPTIONTESTBOT!", true, "Ünïcödé 🌅 İstanbul !"},
		{"@CaptionTestBot_fan sunset", false, "@CaptionTestBot_fan sunset"},
		{"@CaptionTestBot2 then @CaptionTestBot", true, "@CaptionTestBot2 then"},
		{"mail me at x@CaptionTestBotX.org", false, "mail me at x@CaptionTestBotX.org"},
		{"write to me@captiontestbot.com", false, "write to me@captiontestbot.com"},
		{"no mention", false, "no mention"},
		{"", false, ""},
	} {
		var ents []tgbotapi.MessageEntity
		for _, e := range tg.MentionEntities(tc.text) {
			ents = append(ents, tgbotapi.MessageEntity{Type: "mention", Offset: e["offset"].(int), Length: e["length"].(int)})
		}
		got, rest := mentions(tc.text, ents, "CaptionTestBot")
		if got != tc.want || rest != tc.wantRest {
			t.Errorf("mentions(%q) = %v, %q; want %v, %q", tc.text, got, rest, tc.want, tc.wantRest)
		}
	}
	// Only an entity counts: the same text without one is no mention.
	if got, _ := mentions("@CaptionTestBot sunset", nil, "CaptionTestBot"); got {
		t.Error("mention found without an entity")
	}
}
