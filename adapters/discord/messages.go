package discord

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/bot"
)

// MaxImagesPerMessage bounds the photos captioned from one message.
const MaxImagesPerMessage = 4

// typingEvery repeats the typing indicator in a channel with photos in
// work (Discord shows it for ~10 s).
const typingEvery = 8 * time.Second

// mentionPattern matches user mentions: <@ID> and the legacy <@!ID>.
var mentionPattern = regexp.MustCompile(`<@!?(\d+)>`)

// onMessage captions the images of a DM, or of a guild message that
// mentions the bot (or of the message it replies to). Anything else in a
// guild is ignored: the bot never speaks unasked.
func (b *Bot) onMessage(m *discordgo.Message) {
	if m.Author == nil || m.Author.Bot || m.Author.ID == b.botUserID() {
		return
	}
	dm := m.GuildID == ""
	if !dm && !b.mentioned(m) {
		return
	}
	source := m
	if len(m.Attachments) == 0 && m.ReferencedMessage != nil {
		source = m.ReferencedMessage
	}
	if len(source.Attachments) == 0 {
		b.reply(m, b.noPhotoHint(m, dm))
		return
	}
	var images []*discordgo.MessageAttachment
	firstRefusal, skipped := "", 0
	for _, a := range source.Attachments {
		if r := b.refusal(a); r != "" {
			if firstRefusal == "" {
				firstRefusal = r
			}
			continue
		}
		if len(images) < MaxImagesPerMessage {
			images = append(images, a)
		} else {
			skipped++
		}
	}
	var notes []string
	if firstRefusal != "" {
		notes = append(notes, firstRefusal)
	}
	if skipped > 0 {
		notes = append(notes, skippedNote(skipped))
	}
	if len(notes) > 0 {
		b.reply(m, strings.Join(notes, "\n"))
	}
	hint := b.hintOf(m.Content)
	chat, user := m.ChannelID, m.Author.ID
	// A channel hears one "busy" or "slow down" per burst, whoever sent
	// the photos.
	noticeTo := user
	if !dm {
		chat, noticeTo = m.GuildID, ""
	}
	for _, a := range images {
		b.photos.put(a.ID, a.URL)
		stopTyping := b.typing.Start(context.Background(), m.ChannelID) // before the job is queued: never after a fast reply
		job := bot.Job{
			Platform: Platform, ChatID: chat, UserID: user, Group: !dm,
			PhotoKey: a.ID, Fetch: b.fetchPhoto(a.ID), Hint: hint,
			Deliver: func(ctx context.Context, res bot.Result) error {
				stopTyping()
				return b.sendToChannel(ctx, m.ChannelID, m.ID, res, a.ID)
			},
		}
		refused := func(err error) {
			stopTyping()
			if !b.notices.Quiet(m.ChannelID, noticeTo, err, time.Now()) {
				b.reply(m, bot.UserMessage(err))
			}
		}
		if !b.submit(job, refused) {
			return // the rest would be refused for the same reason
		}
	}
}

// skippedNote tells the user that images past MaxImagesPerMessage were
// not captioned.
func skippedNote(n int) string {
	others := "the other image"
	if n > 1 {
		others = fmt.Sprintf("the other %d images", n)
	}
	return fmt.Sprintf("I caption up to %d images per message, so only the first %d are captioned. Send %s in another message.",
		MaxImagesPerMessage, MaxImagesPerMessage, others)
}

// mentioned reports whether m mentions the bot user.
func (b *Bot) mentioned(m *discordgo.Message) bool {
	id := b.botUserID()
	if id == "" {
		return false
	}
	for _, u := range m.Mentions {
		if u != nil && u.ID == id {
			return true
		}
	}
	return false
}

// hintOf is a message's text without mentions, as a hint for the caption.
func (b *Bot) hintOf(content string) string {
	return strings.Join(strings.Fields(mentionPattern.ReplaceAllString(content, " ")), " ")
}

func (b *Bot) noPhotoHint(m *discordgo.Message, dm bool) string {
	switch {
	case dm:
		return "Send me a photo (JPEG, PNG, WebP or GIF) and I'll write a post for it. " +
			"/caption does the same with options; /network, /tone, /lang and /hashtags set your defaults."
	case m.MessageReference != nil && !b.cfg.MessageContent:
		return "I can't see the photo in the message you replied to. Right-click that message → Apps → " +
			ContextMenuName + ", or use /caption."
	default:
		return "Attach a photo when you mention me, or use /caption, or right-click a message with a photo → Apps → " +
			ContextMenuName + "."
	}
}

// reply answers a message with a short text.
func (b *Bot) reply(m *discordgo.Message, text string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f := false
	_, err := b.dg.ChannelMessageSendComplex(m.ChannelID, &discordgo.MessageSend{
		Content:         fit(text),
		Reference:       &discordgo.MessageReference{MessageID: m.ID, ChannelID: m.ChannelID, GuildID: m.GuildID, FailIfNotExists: &f},
		AllowedMentions: noMentions(),
	}, discordgo.WithContext(ctx))
	if err != nil {
		b.log.Error("reply to message", "chat", m.ChannelID, "err", err)
	}
}

// sendTyping is bot.Typing's Send (Bot.typing): best effort, a lost
// indicator harms nobody.
func (b *Bot) sendTyping(ctx context.Context, channelID string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := b.dg.ChannelTyping(channelID, discordgo.WithContext(ctx)); err != nil {
		b.log.Debug("typing indicator", "chat", channelID, "err", err)
	}
}
