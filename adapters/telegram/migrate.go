package telegram

import (
	"context"
	"errors"
	"sync"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// Group upgrades. When a basic group becomes a supergroup, Telegram gives
// it a new chat ID: the old group gets a service message with
// migrate_to_chat_id, the supergroup one with migrate_from_chat_id, and
// every later call naming the old ID fails with 400 and
// parameters.migrate_to_chat_id. Either way the adapter moves the group's
// settings to the new ID, remembers the move, and sends what was meant for
// the old group to the new one.

// migrations maps old group IDs to their supergroups.
type migrations struct {
	mu sync.Mutex
	m  map[int64]int64
}

// newID returns the chat that chatID became, or 0.
func (b *Bot) newID(chatID int64) int64 {
	b.migrations.mu.Lock()
	defer b.migrations.mu.Unlock()
	return b.migrations.m[chatID]
}

// migrate records that the group from is now the supergroup to and moves
// its settings. Failures are logged: the bot goes on without them.
func (b *Bot) migrate(ctx context.Context, from, to int64) {
	if from == 0 || to == 0 || from == to {
		return
	}
	b.migrations.mu.Lock()
	if b.migrations.m == nil {
		b.migrations.m = map[int64]int64{}
	}
	known := b.migrations.m[from] == to
	b.migrations.m[from] = to
	b.migrations.mu.Unlock()
	if !known {
		b.log().Info("group upgraded to a supergroup", "chat", from, "new_chat", to)
	}
	if err := b.svc.MoveChatSettings(ctx, Platform, chatIDString(from), chatIDString(to)); err != nil {
		b.log().Error("moving the group's settings failed", "chat", from, "new_chat", to, "err", err)
	}
}

// migratedTo returns the supergroup an API error says the chat became, or 0.
func migratedTo(err error) int64 {
	var apiErr *tgbotapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.MigrateToChatID
	}
	return 0
}

// chatOf returns the chat a Chattable the adapter sends is for.
func chatOf(c tgbotapi.Chattable) (int64, bool) {
	switch v := c.(type) {
	case tgbotapi.MessageConfig:
		return v.ChatID, true
	case tgbotapi.ChatActionConfig:
		return v.ChatID, true
	case tgbotapi.EditMessageTextConfig:
		return v.ChatID, true
	}
	return 0, false
}

// retarget points c at the supergroup its chat became, when known. Only new
// messages and chat actions can follow: the old group's message IDs mean
// nothing in the supergroup, so an edit cannot (deliver falls back to a new
// message) and a reply loses its reply_to_message_id.
func (b *Bot) retarget(c tgbotapi.Chattable) (tgbotapi.Chattable, bool) {
	switch v := c.(type) {
	case tgbotapi.MessageConfig:
		if to := b.newID(v.ChatID); to != 0 {
			v.ChatID, v.ReplyToMessageID = to, 0
			return v, true
		}
	case tgbotapi.ChatActionConfig:
		if to := b.newID(v.ChatID); to != 0 {
			v.ChatID = to
			return v, true
		}
	}
	return c, false
}
