package telegram

import (
	"strings"
	"testing"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
)

// TestPostKeyboardOffersEveryAction: Regenerate, the next tone and every
// other network, in callback_data that fits and parses.
func TestPostKeyboardOffersEveryAction(t *testing.T) {
	for _, n := range bot.Networks {
		for _, tone := range append([]string{""}, bot.Tones...) {
			kb := postKeyboard(bot.Result{Settings: bot.Settings{Network: n, Tone: tone, Language: "pt"}, Variant: bot.MaxVariant})
			count := 0
			for i, row := range kb.InlineKeyboard {
				if len(row) > 3 || (i == 0 && len(row) != 2) {
					t.Errorf("row %d has %d buttons", i, len(row))
				}
				for _, b := range row {
					count++
					if len(*b.CallbackData) > 64 {
						t.Errorf("callback_data %q is %d bytes", *b.CallbackData, len(*b.CallbackData))
					}
					if a, ok := bot.ParsePostAction(*b.CallbackData); !ok || !strings.Contains(b.Text, a.Label()) {
						t.Errorf("button %q: data %q does not parse", b.Text, *b.CallbackData)
					}
				}
			}
			if count != len(bot.Networks)+1 {
				t.Errorf("%s/%s: %d buttons, want Regenerate, tone and %d networks", n, tone, count, len(bot.Networks)-1)
			}
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

// Buttons of posts sent before bot.PostAction keep working.
func TestParsePostActionReadsOldButtons(t *testing.T) {
	a, ok := parsePostAction("p|linkedin|witty|3")
	if want := (bot.PostAction{Kind: bot.ActionRegenerate, Network: "linkedin", Tone: "witty", Variant: 3}); !ok || a != want {
		t.Errorf("old button = %+v %v, want %+v", a, ok, want)
	}
	for _, bad := range []string{"", "p", "p|myspace||1", "p|x|angry|1", "p|x||-1", "p|x||abc", "p|x|||1", "s|network"} {
		if a, ok := parsePostAction(bad); ok {
			t.Errorf("parsePostAction(%q) = %+v, want rejected", bad, a)
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
