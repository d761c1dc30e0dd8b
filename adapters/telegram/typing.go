package telegram

import (
	"context"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
)

// sendTyping is bot.Typing's Send (typers): best effort, without retries: a lost typing action harms
// nobody.
func (b *Bot) sendTyping(ctx context.Context, chatID int64) {
	action, _ := b.retarget(tgbotapi.NewChatAction(chatID, tgbotapi.ChatTyping))
	if _, err := b.with(ctx).Request(action); err != nil && ctx.Err() == nil {
		b.log().Debug("typing action failed", "err", b.redact(err))
	}
}
