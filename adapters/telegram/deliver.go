package telegram

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

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
	kb := postKeyboard(postState{network: res.Settings.Network, tone: res.Settings.Tone, variant: res.Variant})
	parts := splitText(text, MaxMessage)
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

// postState is what a post's buttons re-render from. It travels in
// callback_data ("p|network|tone|variant", at most 64 bytes), so no server
// state is needed to answer a button.
type postState struct {
	network, tone string
	variant       int
}

func (s postState) data() string {
	return "p|" + s.network + "|" + s.tone + "|" + strconv.Itoa(s.variant)
}

// keyboardNetworks are the networks offered under a post, current excluded.
var keyboardNetworks = []string{"instagram", "x", "linkedin", "facebook"}

// postKeyboard: Regenerate and the next tone, then three other networks.
func postKeyboard(s postState) tgbotapi.InlineKeyboardMarkup {
	regen := postState{s.network, s.tone, s.variant + 1}
	next := nextTone(s.tone)
	toneBtn := postState{s.network, next, s.variant + 1}
	rows := [][]tgbotapi.InlineKeyboardButton{{
		tgbotapi.NewInlineKeyboardButtonData("🔄 Regenerate", regen.data()),
		tgbotapi.NewInlineKeyboardButtonData("🎭 Tone: "+next, toneBtn.data()),
	}}
	var nets []tgbotapi.InlineKeyboardButton
	for _, n := range keyboardNetworks {
		if n == s.network || !slices.Contains(bot.Networks, n) || len(nets) == 3 {
			continue
		}
		nets = append(nets, tgbotapi.NewInlineKeyboardButtonData(bot.NetworkTitle(n), postState{n, s.tone, s.variant + 1}.data()))
	}
	if len(nets) > 0 {
		rows = append(rows, nets)
	}
	return tgbotapi.InlineKeyboardMarkup{InlineKeyboard: rows}
}

// nextTone cycles through bot.Tones; after the network default comes the
// first tone.
func nextTone(tone string) string {
	i := slices.Index(bot.Tones, tone)
	return bot.Tones[(i+1)%len(bot.Tones)]
}

// parsePostState reads callback data made by postState.data.
func parsePostState(data string) (postState, bool) {
	f := strings.Split(data, "|")
	if len(f) != 4 || f[0] != "p" {
		return postState{}, false
	}
	net, err := bot.ParseNetwork(f[1])
	if err != nil {
		return postState{}, false
	}
	if f[2] != "" {
		if _, err := bot.ParseTone(f[2]); err != nil {
			return postState{}, false
		}
	}
	v, err := strconv.Atoi(f[3])
	if err != nil || v < 0 || v > 1_000_000 {
		return postState{}, false
	}
	return postState{network: net, tone: f[2], variant: v}, true
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
		answer(truncate(reply.Text, 190), !reply.Changed)
		if !reply.Changed {
			return // the menu stays for someone allowed to use it
		}
		if _, err := b.send(ctx, tgbotapi.NewEditMessageText(q.Message.Chat.ID, q.Message.MessageID, reply.Text)); err != nil &&
			!strings.Contains(apiMessage(err), "message is not modified") {
			b.log().Warn("editing settings menu failed", "err", err)
		}
		return
	}
	st, ok := parsePostState(q.Data)
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
		override: bot.Settings{Network: st.network, Tone: st.tone},
		variant:  st.variant,
		editID:   q.Message.MessageID,
		refuse:   func(err error) { submitErr = err },
	}, tr)
	if submitErr != nil {
		answer(bot.UserMessage(submitErr), true)
		return
	}
	answer("Writing a new version…", false)
}

// truncate cuts s to at most n runes, adding "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// utf16Len is s's length as Telegram counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// splitText cuts s into parts of at most limit UTF-16 units, preferring
// paragraph, then line, then word boundaries in the second half of a part.
func splitText(s string, limit int) []string {
	var parts []string
	for utf16Len(s) > limit {
		// end: the byte index of the longest prefix within limit.
		end, n := 0, 0
		for i, r := range s {
			if n+utf16.RuneLen(r) > limit {
				end = i
				break
			}
			n += utf16.RuneLen(r)
		}
		cut := end
		for _, sep := range []string{"\n\n", "\n", " "} {
			if i := strings.LastIndex(s[:end], sep); i > end/2 {
				cut = i
				break
			}
		}
		part := strings.TrimSpace(s[:cut])
		if part == "" { // nothing but spaces before the cut: hard cut
			part, cut = s[:end], end
		}
		parts = append(parts, part)
		s = strings.TrimSpace(s[cut:])
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}
