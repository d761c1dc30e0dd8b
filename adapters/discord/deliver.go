package discord

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/bot"
)

// MaxMessage is Discord's limit on a message's content, in characters.
const MaxMessage = 2000

// Custom IDs of components. Post buttons carry everything a re-render needs:
// "cb|r|PHOTO|NETWORK|TONE|LANG|VARIANT" (Regenerate) and
// "cb|n|PHOTO|NETWORK|TONE|LANG|0" (another network); Discord allows 100
// characters.
const (
	customIDSetPrefix = "cb|set|"
	maxCustomID       = 100
)

// postRef is a decoded post button.
type postRef struct {
	photo, network, tone, lang string
	// variant is the variant to render (already advanced for Regenerate).
	variant int
}

func postButtonID(kind byte, photo, network, tone, lang string, variant int) string {
	return fmt.Sprintf("cb|%c|%s|%s|%s|%s|%d", kind, photo, network, tone, lang, variant)
}

// parsePostButton decodes a post button's custom ID, validating every field
// (custom IDs come back from clients).
func parsePostButton(id string) (postRef, bool) {
	f := strings.Split(id, "|")
	if len(f) != 7 || f[0] != "cb" || (f[1] != "r" && f[1] != "n") || f[2] == "" {
		return postRef{}, false
	}
	for _, r := range f[2] {
		if r < '0' || r > '9' {
			return postRef{}, false
		}
	}
	ref := postRef{photo: f[2]}
	var err error
	if ref.network, err = bot.ParseNetwork(f[3]); err != nil {
		return postRef{}, false
	}
	if f[4] != "" {
		if ref.tone, err = bot.ParseTone(f[4]); err != nil {
			return postRef{}, false
		}
	}
	if f[5] != "" {
		if ref.lang, err = bot.ParseLanguage(f[5]); err != nil {
			return postRef{}, false
		}
	}
	v, err := strconv.Atoi(f[6])
	if err != nil || v < 0 || v > 1000 {
		return postRef{}, false
	}
	if f[1] == "r" {
		v++
	}
	ref.variant = v
	return ref, true
}

// postComponents are the buttons under a post: Regenerate, then one per
// other network, five to a row.
func postComponents(photo string, res bot.Result) []discordgo.MessageComponent {
	if photo == "" {
		return nil
	}
	s := res.Settings
	buttons := []discordgo.MessageComponent{discordgo.Button{Label: "Regenerate", Style: discordgo.PrimaryButton,
		CustomID: postButtonID('r', photo, s.Network, s.Tone, s.Language, res.Variant)}}
	for _, n := range bot.Networks {
		if n == s.Network {
			continue
		}
		buttons = append(buttons, discordgo.Button{Label: bot.NetworkTitle(n), Style: discordgo.SecondaryButton,
			CustomID: postButtonID('n', photo, n, s.Tone, s.Language, 0)})
	}
	var rows []discordgo.MessageComponent
	for len(buttons) > 0 && len(rows) < 5 {
		k := min(5, len(buttons))
		for _, c := range buttons[:k] {
			if len(c.(discordgo.Button).CustomID) > maxCustomID {
				return nil
			}
		}
		rows = append(rows, discordgo.ActionsRow{Components: buttons[:k]})
		buttons = buttons[k:]
	}
	return rows
}

// splitMessage cuts text into pieces of at most limit characters, at a
// paragraph, line or word break when there is one in the second half of a
// piece, else mid-word.
func splitMessage(text string, limit int) []string {
	text = strings.TrimSpace(text)
	if text == "" {
		return []string{"…"}
	}
	var parts []string
	for utf8.RuneCountInString(text) > limit {
		cut := byteIndexOfRune(text, limit)
		head := text[:cut]
		at := -1
		for _, sep := range []string{"\n\n", "\n", " "} {
			if i := strings.LastIndex(head, sep); i > 0 && utf8.RuneCountInString(head[:i]) >= limit/2 {
				at = i
				break
			}
		}
		if at < 0 {
			at = cut
		}
		parts = append(parts, strings.TrimSpace(text[:at]))
		text = strings.TrimSpace(text[at:])
	}
	if text != "" {
		parts = append(parts, text)
	}
	return parts
}

// byteIndexOfRune returns the byte offset of the n-th rune of s.
func byteIndexOfRune(s string, n int) int {
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// fit shortens a short reply that should never need splitting.
func fit(text string) string {
	if utf8.RuneCountInString(text) <= MaxMessage {
		return text
	}
	return text[:byteIndexOfRune(text, MaxMessage-1)] + "…"
}

// noMentions keeps posts and replies from pinging anyone: captions come from
// a model and hints from users.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// redacted hides an interaction token in an error's text (network errors
// quote the webhook URL, which holds it); errors.Is and As still see the
// original.
type redacted struct {
	err error
	msg string
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

func redact(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redacted{err: err, msg: strings.ReplaceAll(err.Error(), secret, "[token]")}
}

// deliverToInteraction answers an acknowledged interaction with a job's
// result: the post edits the deferred reply (or, for a button, the message
// the button is on), longer posts continue in follow-ups, and the buttons go
// under the last piece. An error edits the reply with an apology, or for a
// button adds an ephemeral follow-up and leaves the post alone. When the
// acknowledgement failed (the 3-second window passed) the post goes to the
// channel as a plain message.
func (b *Bot) deliverToInteraction(ctx context.Context, i *discordgo.Interaction, ack *ackGate, photo string, res bot.Result, button bool) error {
	return redact(b.answerInteraction(ctx, i, ack, photo, res, button), i.Token)
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
	parts := splitMessage(res.Post.Text, MaxMessage)
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
	parts := splitMessage(res.Post.Text, MaxMessage)
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
