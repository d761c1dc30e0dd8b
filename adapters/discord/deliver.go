package discord

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/bot"
)

// MaxMessage is Discord's limit on a message's content, in characters.
const MaxMessage = 2000

// customIDSetPrefix starts a settings menu's custom ID; post buttons carry
// bot.PostAction's data (Discord allows 100 characters).
const customIDSetPrefix = "cb|set|"

// postAction decodes a post button's custom ID; Discord's carry the photo's
// attachment ID, a snowflake.
func postAction(customID string) (bot.PostAction, bool) {
	a, ok := bot.ParsePostAction(customID)
	if !ok || a.Photo == "" || strings.Trim(a.Photo, "0123456789") != "" {
		return bot.PostAction{}, false
	}
	return a, true
}

// postComponents render bot.PostActions under a post: Regenerate, the next
// tone, then every other network, five to a row.
func postComponents(photo string, res bot.Result) []discordgo.MessageComponent {
	if photo == "" {
		return nil
	}
	var buttons []discordgo.MessageComponent
	for _, a := range bot.PostActions(photo, res.Settings, res.Variant) {
		btn := discordgo.Button{Label: a.Label(), Style: discordgo.SecondaryButton, CustomID: a.Data()}
		if a.Kind == bot.ActionRegenerate {
			btn.Style = discordgo.PrimaryButton
		}
		if e := a.Emoji(); e != "" {
			btn.Emoji = &discordgo.ComponentEmoji{Name: e}
		}
		buttons = append(buttons, btn)
	}
	var rows []discordgo.MessageComponent
	for len(buttons) > 0 && len(rows) < 5 {
		k := min(5, len(buttons))
		rows = append(rows, discordgo.ActionsRow{Components: buttons[:k]})
		buttons = buttons[k:]
	}
	return rows
}

// splitMessage cuts a post into messages of at most MaxMessage characters
// (bot.SplitText); a blank post is "…".
func splitMessage(text string) []string {
	if parts := bot.SplitText(text, MaxMessage, bot.RuneUnits); len(parts) > 0 {
		return parts
	}
	return []string{"…"}
}

// fit shortens a short reply that should never need splitting.
func fit(text string) string { return bot.Truncate(text, MaxMessage, bot.RuneUnits) }

// noMentions keeps posts and replies from pinging anyone: captions come from
// a model and hints from users.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// deliverToInteraction answers an acknowledged interaction with a job's
// result: the post edits the deferred reply (or, for a button, the message
// the button is on), longer posts continue in follow-ups, and the buttons go
// under the last piece. An error edits the reply with an apology, or for a
// button adds an ephemeral follow-up and leaves the post alone. When the
// acknowledgement failed (the 3-second window passed) the post goes to the
// channel as a plain message.
func (b *Bot) deliverToInteraction(ctx context.Context, i *discordgo.Interaction, ack *ackGate, photo string, res bot.Result, button bool) error {
	return bot.Redact(b.answerInteraction(ctx, i, ack, photo, res, button), i.Token)
}

func (b *Bot) answerInteraction(ctx context.Context, i *discordgo.Interaction, ack *ackGate, photo string, res bot.Result, button bool) error {
	if err := ack.wait(ctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		b.log.Warn("interaction not acknowledged; answering in the channel", "interaction", i.ID)
		return b.sendToChannel(ctx, i.ChannelID, "", res, photo)
	}
	opt := discordgo.WithContext(ctx)
	if res.Err != nil {
		text := fit(bot.UserMessage(res.Err))
		if button {
			_, err := b.dg.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: text,
				Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: noMentions()}, opt)
			return err
		}
		empty := []discordgo.MessageComponent{}
		_, err := b.dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &text, Components: &empty,
			AllowedMentions: noMentions()}, opt)
		return err
	}
	parts := splitMessage(res.Post.Text)
	buttons := postComponents(photo, res)
	for k, part := range parts {
		comps := []discordgo.MessageComponent{}
		if k == len(parts)-1 && buttons != nil {
			comps = buttons
		}
		var err error
		if k == 0 {
			_, err = b.dg.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &part, Components: &comps,
				AllowedMentions: noMentions()}, opt)
		} else {
			_, err = b.dg.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: part, Components: comps,
				AllowedMentions: noMentions()}, opt)
		}
		if err != nil {
			return fmt.Errorf("send post part %d/%d: %w", k+1, len(parts), err)
		}
	}
	return nil
}

// sendToChannel posts a job's result (or its apology) to a channel, as a
// reply to replyTo when set, split to fit and with the buttons on the last
// piece.
func (b *Bot) sendToChannel(ctx context.Context, channelID, replyTo string, res bot.Result, photo string) error {
	opt := discordgo.WithContext(ctx)
	var ref *discordgo.MessageReference
	if replyTo != "" {
		f := false
		ref = &discordgo.MessageReference{MessageID: replyTo, ChannelID: channelID, FailIfNotExists: &f}
	}
	if res.Err != nil {
		_, err := b.dg.ChannelMessageSendComplex(channelID, &discordgo.MessageSend{Content: fit(bot.UserMessage(res.Err)),
			Reference: ref, AllowedMentions: noMentions()}, opt)
		return err
	}
	parts := splitMessage(res.Post.Text)
	buttons := postComponents(photo, res)
	for k, part := range parts {
		m := &discordgo.MessageSend{Content: part, AllowedMentions: noMentions()}
		if k == 0 {
			m.Reference = ref
		}
		if k == len(parts)-1 {
			m.Components = buttons
		}
		if _, err := b.dg.ChannelMessageSendComplex(channelID, m, opt); err != nil {
			return fmt.Errorf("send post part %d/%d: %w", k+1, len(parts), err)
		}
	}
	return nil
}
