package telegram

import (
	"context"
	"strings"
	"testing"
	"time"

	tg "github.com/captionbot/captionbot/adapters/telegram/telegramtest"
	"github.com/captionbot/captionbot/bot"
)

func chatKey(id string) bot.PrefKey {
	return bot.PrefKey{Platform: Platform, Scope: bot.ScopeChat, ID: id}
}

// waitSettings waits until the chat's stored settings are want.
func waitSettings(t *testing.T, h *harness, chat string, want bot.Settings) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := h.prefs.Get(context.Background(), chatKey(chat))
		if err == nil && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("settings of chat %s = %+v (err %v), want %+v", chat, got, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGroupUpgradeMessageMovesSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  map[string]any
	}{
		{"migrate_to_chat_id in the old group", tg.MigrateToMessage(50, -5, 7, -1005)},
		{"migrate_from_chat_id in the supergroup", tg.MigrateFromMessage(1, -1005, 7, -5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if err := h.prefs.Set(t.Context(), chatKey("-5"), bot.Settings{Network: "x", Tone: "witty"}); err != nil {
				t.Fatal(err)
			}
			h.start()
			h.api.Migrate(-5, -1005)
			h.api.Push(tg.Message(tc.msg))
			waitSettings(t, h, "-1005", bot.Settings{Network: "x", Tone: "witty"})
			waitSettings(t, h, "-5", bot.Settings{})

			// The supergroup goes on with the group's settings.
			h.api.Push(tg.Message(tg.TextMessage(2, tg.GroupChat(-1005), 7, "/settings", nil)))
			sent := h.wait("sendMessage", 1)
			if got := sent[0].Params.Get("text"); sent[0].Params.Get("chat_id") != "-1005" ||
				!strings.Contains(got, "Network: X (Twitter)\nTone: witty") {
				t.Errorf("/settings in the supergroup: %q in chat %s", got, sent[0].Params.Get("chat_id"))
			}
			if n := len(h.api.Calls("sendMessage")); n != 1 {
				t.Errorf("%d messages sent, want only the /settings reply (service messages get none)", n)
			}
		})
	}
}

// The bot missed the service message: the first send to the old group
// fails with migrate_to_chat_id and goes to the supergroup instead, the
// settings follow, and later sends go straight to the supergroup.
func TestSendToUpgradedGroupIsRetriedToSupergroup(t *testing.T) {
	h := newHarness(t)
	if err := h.prefs.Set(t.Context(), chatKey("-5"), bot.Settings{Network: "linkedin"}); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.api.AddFile("g1", jpeg)
	h.api.Migrate(-5, -1005)
	old := tg.BasicGroupChat(-5)
	h.api.Push(tg.Message(tg.PhotoMessage(3, old, 7, "g1", "@CaptionTestBot")))

	calls := h.wait("sendMessage", 2)
	if calls[0].Params.Get("chat_id") != "-5" {
		t.Fatalf("first send went to %s, want the old group", calls[0].Params.Get("chat_id"))
	}
	post := calls[1].Params
	if post.Get("chat_id") != "-1005" || !strings.HasPrefix(post.Get("text"), "[linkedin//en/v0] a dog runs") {
		t.Errorf("retried send: %q in chat %s, want the post in -1005", post.Get("text"), post.Get("chat_id"))
	}
	if post.Get("reply_to_message_id") != "" {
		t.Errorf("retried send replies to message %s of the old group", post.Get("reply_to_message_id"))
	}
	if post.Get("reply_markup") == "" {
		t.Error("retried post lost its buttons")
	}
	waitSettings(t, h, "-1005", bot.Settings{Network: "linkedin"})
	waitSettings(t, h, "-5", bot.Settings{})

	// A later reply for the old group needs no failed attempt.
	h.api.Push(tg.Message(tg.TextMessage(4, old, 7, "/help", nil)))
	calls = h.wait("sendMessage", 3)
	if got := calls[2].Params.Get("chat_id"); got != "-1005" {
		t.Errorf("later reply went to %s, want -1005", got)
	}
}
