package telegram

import (
	"context"
	"fmt"
	"slices"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/captionbot/captionbot/bot"
)

// MaxMessage is Telegram's message length limit, in UTF-16 code units.
const MaxMessage = 4096

// deliver sends a job's result: the post as a reply to the photo (split to
// fit MaxMessage, buttons under the last part), or, for a button press
// (editID != 0), an edit of the message that carried the buttons. sent is
// how many messages went out before an error.
func (b *Bot) deliver(ctx context.Context, chatID int64, replyTo, editID int, res bot.Result) (sent int, err error) {
	text := strings.TrimSpace(res.Post.Text)
	if res.Err == nil && text == "" {
		res.Err = fmt.Errorf("refiner returned an empty post")
	}
	if res.Err != nil {
		msg := tgbotapi.NewMessage(chatID, bot.UserMessage(res.Err))
		msg.ReplyToMessageID = replyTo
		msg.AllowSendingWithoutReply = true
		_, err := b.send(ctx, msg)
		return 0, err
	}
	kb := postKeyboard(res)
	parts := bot.SplitText(text, MaxMessage, bot.UTF16Units)
	if editID != 0 && len(parts) == 1 {
		_, err := b.send(ctx, tgbotapi.NewEditMessageTextAndMarkup(chatID, editID, parts[0], kb))
		if err == nil || strings.Contains(apiMessage(err), "message is not modified") {
			return 1, nil
		}
		b.log().Warn("edit failed, sending a new message", "err", err)
	}
	for i, p := range parts {
		msg := tgbotapi.NewMessage(chatID, p)
		msg.ReplyToMessageID = replyTo
		msg.AllowSendingWithoutReply = true
		if i == len(parts)-1 {
			msg.ReplyMarkup = kb
		}
		if _, err := b.send(ctx, msg); err != nil {
			return i, err
		}
	}
	return len(parts), nil
}

// postKeyboard renders bot.PostActions under a post: Regenerate and the
// next tone, then every other network, three a row. The post replies to its
// photo, so the actions carry no photo reference.
func postKeyboard(res bot.Result) tgbotapi.InlineKeyboardMarkup {
	rows := [][]tgbotapi.InlineKeyboardButton{nil} // Regenerate and tone
	for _, a := range bot.PostActions("", res.Settings, res.Variant) {
		label := a.Label()
		if e := a.Emoji(); e != "" {
			label = e + " " + label
		}
		btn := tgbotapi.NewInlineKeyboardButtonData(label, a.Data())
		last := len(rows) - 1
		switch {
		case a.Kind != bot.ActionNetwork:
			rows[0] = append(rows[0], btn)
		case last == 0 || len(rows[last]) == 3:
			rows = append(rows, []tgbotapi.InlineKeyboardButton{btn})
		default:
			rows[last] = append(rows[last], btn)
		}
	}
	return tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// parsePostAction decodes a post button: bot.PostAction's data, or the
// "p|NETWORK|TONE|VARIANT" of posts sent before it (their buttons still work,
// since the post replies to its photo).
func parsePostAction(data string) (bot.PostAction, bool) {
	if a, ok := bot.ParsePostAction(data); ok {
		return a, true
	}
	f := strings.Split(data, "|")
	if len(f) != 4 || f[0] != "p" {
		return bot.PostAction{}, false
	}
	// Checked as the current encoding of the same action.
	return bot.ParsePostAction("p|r||" + f[1] + "|" + f[2] + "||" + f[3])
}

// choicesKeyboard shows a setting's values, three a row, current marked;
// callback data is "s|setting|value".
func choicesKeyboard(c *bot.Choices) tgbotapi.InlineKeyboardMarkup {
	var rows [][]tgbotapi.InlineKeyboardButton
	var row []tgbotapi.InlineKeyboardButton
	for _, v := range c.Values {
		label := v
		if c.Setting == "network" {
			label = bot.NetworkTitle(v)
		}
		if v == c.Current {
			label = "✓ " + label
		}
		row = append(row, tgbotapi.NewInlineKeyboardButtonData(label, "s|"+c.Setting+"|"+v))
		if len(row) == 3 {
			rows, row = append(rows, row), nil
		}
	}
	if len(row) > 0 {
		rows = append(rows, row)
	}
	return tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// handleCallback answers a button press: a post button re-renders the post
// from the cached description; a settings button changes the setting.
// answerCallbackQuery is always called, exactly once.
func (b *Bot) handleCallback(ctx context.Context, q *tgbotapi.CallbackQuery, tr *tracker) {
	answer := func(text string, alert bool) {
		cb := tgbotapi.NewCallback(q.ID, text)
		cb.ShowAlert = alert
		if _, err := b.send(ctx, cb); err != nil {
			b.log().Error("answerCallbackQuery failed", "err", err)
		}
	}
	if q.Message == nil || q.Message.Chat == nil || q.From == nil {
		answer("This button has expired.", false)
		tr.finish()
		return
	}
	if rest, ok := strings.CutPrefix(q.Data, "s|"); ok {
		defer tr.finish()
		setting, value, _ := strings.Cut(rest, "|")
		if !slices.Contains(settingCommands, setting) || value == "" {
			answer("This button has expired.", false)
			return
		}
		req := b.commandRequest(ctx, q.Message.Chat, q.From.ID, nil, bot.Command{Name: setting, Args: value})
		reply := b.svc.HandleCommand(ctx, req)
		answer(bot.Truncate(reply.Text, 190, bot.RuneUnits), !reply.Changed)
		if !reply.Changed {
			return // the menu stays for someone allowed to use it
		}
		if _, err := b.send(ctx, tgbotapi.NewEditMessageText(q.Message.Chat.ID, q.Message.MessageID, reply.Text)); err != nil &&
			!strings.Contains(apiMessage(err), "message is not modified") {
			b.log().Warn("editing settings menu failed", "err", err)
		}
		return
	}
	act, ok := parsePostAction(q.Data)
	if !ok {
		answer("This button has expired.", false)
		tr.finish()
		return
	}
	photoMsg := q.Message.ReplyToMessage
	ref, ok := photoOf(photoMsg)
	if !ok {
		answer(bot.UserMessage(bot.ErrPhotoExpired), true)
		tr.finish()
		return
	}
	trigger := *q.Message
	trigger.From = q.From
	trigger.SenderChat = nil
	var submitErr error
	b.submitPhoto(ctx, &trigger, photoMsg, ref, photoJob{
		override: act.Settings(),
		variant:  act.Variant,
		editID:   q.Message.MessageID,
		refuse:   func(err error) { submitErr = err },
	}, tr)
	if submitErr != nil {
		answer(bot.UserMessage(submitErr), true)
		return
	}
	answer("Writing a new version…", false)
}
