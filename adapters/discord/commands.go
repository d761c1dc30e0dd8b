package discord

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/captionbot/captionbot/bot"
)

// ContextMenuName is the message context-menu command (right-click a
// message → Apps). Context-menu targets carry their attachments without the
// MESSAGE_CONTENT intent.
const ContextMenuName = "Caption this photo"

// settingCommands are the slash commands answered by bot.HandleCommand, with
// their one optional option.
var settingCommands = map[string]bool{"network": true, "tone": true, "lang": true, "hashtags": true, "settings": true}

// resetChoice is the choice that clears a setting (bot's "reset" argument).
const resetChoice = "reset"

// Commands returns the application commands the bot registers: /caption with
// an attachment, the settings commands and the context-menu command.
func Commands() []*discordgo.ApplicationCommand {
	networkChoices := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(bot.Networks)+1)
	for _, n := range bot.Networks {
		networkChoices = append(networkChoices, &discordgo.ApplicationCommandOptionChoice{Name: bot.NetworkTitle(n), Value: n})
	}
	toneChoices := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(bot.Tones)+1)
	for _, t := range bot.Tones {
		toneChoices = append(toneChoices, &discordgo.ApplicationCommandOptionChoice{Name: t, Value: t})
	}
	withReset := func(c []*discordgo.ApplicationCommandOptionChoice) []*discordgo.ApplicationCommandOptionChoice {
		return append(c[:len(c):len(c)], &discordgo.ApplicationCommandOptionChoice{Name: "Default (reset)", Value: resetChoice})
	}
	zero, maxTags := 0.0, float64(bot.MaxHashtags)
	two := 2
	return []*discordgo.ApplicationCommand{
		{
			Name:        "caption",
			Description: "Write a ready-to-post caption with hashtags for a photo",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "The photo (JPEG, PNG, WebP or GIF)", Required: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: "network", Description: "The network to write for (default: your setting)", Choices: networkChoices},
				{Type: discordgo.ApplicationCommandOptionString, Name: "tone", Description: "The tone of the post (default: your setting)", Choices: toneChoices},
				{Type: discordgo.ApplicationCommandOptionString, Name: "language", Description: "Two-letter language code, e.g. en, de, es", MinLength: &two, MaxLength: 5},
				{Type: discordgo.ApplicationCommandOptionString, Name: "hint", Description: "Words to steer the caption (optional)", MaxLength: 200},
			},
		},
		{
			Name:        "network",
			Description: "Choose the network posts are written for",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "The network (leave out to see a menu)", Choices: withReset(networkChoices)},
			},
		},
		{
			Name:        "tone",
			Description: "Choose the tone of posts",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "The tone (leave out to see a menu)", Choices: withReset(toneChoices)},
			},
		},
		{
			Name:        "lang",
			Description: "Choose the language of posts",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "code", Description: "Two-letter code such as en, de or es, or reset", MinLength: &two, MaxLength: 5},
			},
		},
		{
			Name:        "hashtags",
			Description: "Choose how many hashtags a post gets",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "count", Description: fmt.Sprintf("From 0 to %d", bot.MaxHashtags), MinValue: &zero, MaxValue: maxTags},
			},
		},
		{Name: "settings", Description: "Show the settings your posts are written with"},
		{Name: ContextMenuName, Type: discordgo.MessageApplicationCommand},
	}
}

// registerCommands overwrites the application's commands (in the configured
// guild, or globally).
func (b *Bot) registerCommands() error {
	app := b.applicationID()
	if app == "" {
		return fmt.Errorf("%w: no application_id, and READY did not name the application", ErrConfig)
	}
	cmds, err := b.dg.ApplicationCommandBulkOverwrite(app, b.cfg.GuildID, Commands())
	if err != nil {
		return fmt.Errorf("discord: register commands: %w", err)
	}
	b.log.Info("discord commands registered", "count", len(cmds), "guild", b.cfg.GuildID)
	return nil
}

// who is the person and the place of an interaction.
type who struct {
	user, chat string
	guild      bool
	// admin: the member has Manage Server (or Administrator) here.
	admin bool
}

func interactionWho(i *discordgo.Interaction) who {
	var w who
	switch {
	case i.Member != nil && i.Member.User != nil:
		w.user = i.Member.User.ID
		w.admin = i.Member.Permissions&(discordgo.PermissionManageGuild|discordgo.PermissionAdministrator) != 0
	case i.User != nil:
		w.user = i.User.ID
	}
	if i.GuildID != "" {
		w.chat, w.guild = i.GuildID, true
	} else {
		w.chat = i.ChannelID
	}
	return w
}

// commandRequest builds the core's request. In a guild, members with Manage
// Server change the guild's defaults; other members change their own
// settings (which apply in DMs, and in guilds where the guild set nothing).
// Showing settings in a guild shows what applies there.
func commandRequest(w who, name, args string) bot.CommandRequest {
	group := w.guild
	if w.guild && !w.admin && args != "" {
		group = false
	}
	return bot.CommandRequest{Platform: Platform, ChatID: w.chat, UserID: w.user, Group: group, Admin: w.admin,
		Place: "server", Command: bot.Command{Name: name, Args: args}}
}

func (b *Bot) onInteraction(i *discordgo.Interaction) {
	if i.AppID != b.applicationID() {
		// Meant for another application (a shared gateway, a forged
		// event): not ours to answer.
		b.log.Warn("interaction for another application ignored", "app", i.AppID)
		return
	}
	switch i.Type {
	case discordgo.InteractionApplicationCommand:
		data, ok := i.Data.(discordgo.ApplicationCommandInteractionData)
		if !ok {
			return
		}
		switch {
		case data.CommandType == discordgo.MessageApplicationCommand && data.Name == ContextMenuName:
			b.onContextMenu(i, data)
		case data.Name == "caption":
			b.onCaptionCommand(i, data)
		case settingCommands[data.Name]:
			b.onSettingCommand(i, data)
		default:
			b.respondText(i, "I don't know that command any more. Try /caption or /settings.", true)
		}
	case discordgo.InteractionMessageComponent:
		data, ok := i.Data.(discordgo.MessageComponentInteractionData)
		if !ok {
			return
		}
		b.onComponent(i, data)
	case discordgo.InteractionApplicationCommandAutocomplete:
		// No option autocompletes; an empty answer keeps the client quiet.
		b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult,
			Data: &discordgo.InteractionResponseData{Choices: []*discordgo.ApplicationCommandOptionChoice{}}})
	}
}

// optionValue renders an option's value as command text; "" when absent.
func optionValue(opts []*discordgo.ApplicationCommandInteractionDataOption, name string) string {
	for _, o := range opts {
		if o.Name != name {
			continue
		}
		switch v := o.Value.(type) {
		case string:
			return strings.TrimSpace(v)
		case float64:
			return strconv.FormatInt(int64(v), 10)
		case bool:
			return strconv.FormatBool(v)
		}
	}
	return ""
}

func (b *Bot) onSettingCommand(i *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData) {
	var args string
	if len(data.Options) > 0 {
		args = optionValue(data.Options, data.Options[0].Name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	reply := b.svc.HandleCommand(ctx, commandRequest(interactionWho(i), data.Name, args))
	b.respond(i, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{
			Content:         fit(reply.Text),
			Flags:           discordgo.MessageFlagsEphemeral,
			Components:      choiceComponents(reply.Choices),
			AllowedMentions: noMentions(),
		},
	})
}

// choiceComponents shows a setting's choices as a select menu; pressing one
// comes back as a component interaction with customIDSetPrefix.
func choiceComponents(c *bot.Choices) []discordgo.MessageComponent {
	if c == nil || len(c.Values) == 0 {
		return nil
	}
	var opts []discordgo.SelectMenuOption
	for _, v := range c.Values {
		label := v
		if c.Setting == "network" {
			label = bot.NetworkTitle(v)
		}
		opts = append(opts, discordgo.SelectMenuOption{Label: label, Value: v, Default: v == c.Current})
	}
	opts = append(opts, discordgo.SelectMenuOption{Label: "Default (reset)", Value: resetChoice})
	if len(opts) > 25 { // Discord's limit on select options
		opts = opts[:25]
	}
	return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.SelectMenu{MenuType: discordgo.StringSelectMenu, CustomID: customIDSetPrefix + c.Setting,
			Placeholder: "Choose a " + c.Setting, Options: opts},
	}}}
}

func (b *Bot) onCaptionCommand(i *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData) {
	attID := optionValue(data.Options, "image")
	var att *discordgo.MessageAttachment
	if data.Resolved != nil {
		att = data.Resolved.Attachments[attID]
	}
	if att == nil {
		b.respondText(i, "Please attach a photo to /caption.", true)
		return
	}
	var over bot.Settings
	for _, o := range captionOverrides {
		v := optionValue(data.Options, o.name)
		if v == "" {
			continue
		}
		canon, err := o.parse(v)
		if err != nil {
			b.respondText(i, fmt.Sprintf("%s isn't a %s I know. %s", bot.QuoteInput(v), o.name, o.help()), true)
			return
		}
		o.set(&over, canon)
	}
	b.captionInteraction(i, att, over, optionValue(data.Options, "hint"))
}

// captionOverrides are /caption's setting options: how each is parsed, where
// it goes, and what to say when it is bad (choices make bad values rare, but
// option values come from clients).
var captionOverrides = []struct {
	name  string
	parse func(string) (string, error)
	set   func(*bot.Settings, string)
	help  func() string
}{
	{"network", bot.ParseNetwork, func(s *bot.Settings, v string) { s.Network = v },
		func() string { return "Choose one of: " + strings.Join(bot.Networks, ", ") + "." }},
	{"tone", bot.ParseTone, func(s *bot.Settings, v string) { s.Tone = v },
		func() string { return "Choose one of: " + strings.Join(bot.Tones, ", ") + "." }},
	{"language", bot.ParseLanguage, func(s *bot.Settings, v string) { s.Language = v },
		func() string { return "Use a two-letter code such as en, de or es." }},
}

func (b *Bot) onContextMenu(i *discordgo.Interaction, data discordgo.ApplicationCommandInteractionData) {
	var msg *discordgo.Message
	if data.Resolved != nil {
		msg = data.Resolved.Messages[data.TargetID]
	}
	if msg == nil || len(msg.Attachments) == 0 {
		b.respondText(i, "That message has no photo attached. Pick a message with an image.", true)
		return
	}
	att, refusal := b.pickImage(msg.Attachments)
	if att == nil {
		b.respondText(i, refusal, true)
		return
	}
	b.captionInteraction(i, att, bot.Settings{}, "")
}

// captionInteraction submits a job for an attachment and defers the
// interaction; the job's delivery edits the deferred reply with the post.
// The job is submitted first so that a busy or rate-limited user gets an
// ephemeral answer; its delivery waits for the deferral to be sent.
func (b *Bot) captionInteraction(i *discordgo.Interaction, att *discordgo.MessageAttachment, over bot.Settings, hint string) {
	if refusal := b.refusal(att); refusal != "" {
		b.respondText(i, refusal, true)
		return
	}
	b.photos.put(att.ID, att.URL)
	w := interactionWho(i)
	ack := newAckGate()
	job := bot.Job{
		Platform: Platform, ChatID: w.chat, UserID: w.user, Group: w.guild,
		PhotoKey: att.ID, Fetch: b.fetchPhoto(att.ID), Override: over, Hint: hint,
		Deliver: func(ctx context.Context, res bot.Result) error {
			return b.deliverToInteraction(ctx, i, ack, att.ID, res, false)
		},
	}
	if !b.submit(job, func(err error) { b.respondText(i, bot.UserMessage(err), true) }) {
		return
	}
	ack.done(b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}))
}

// submit hands a job to the service, counting it for shutdown. On refusal
// (busy, rate limited, stopping) it calls refused with the reason.
func (b *Bot) submit(job bot.Job, refused func(error)) bool {
	deliver := job.Deliver
	job.Deliver = func(ctx context.Context, res bot.Result) error {
		defer b.jobs.Done()
		return deliver(ctx, res)
	}
	b.jobs.Add(1)
	if err := b.svc.Submit(job); err != nil {
		b.jobs.Done()
		refused(err)
		return false
	}
	return true
}

func (b *Bot) onComponent(i *discordgo.Interaction, data discordgo.MessageComponentInteractionData) {
	if setting, ok := strings.CutPrefix(data.CustomID, customIDSetPrefix); ok && settingCommands[setting] && len(data.Values) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		reply := b.svc.HandleCommand(ctx, commandRequest(interactionWho(i), setting, data.Values[0]))
		empty := []discordgo.MessageComponent{}
		b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseUpdateMessage,
			Data: &discordgo.InteractionResponseData{Content: fit(reply.Text), Components: empty, AllowedMentions: noMentions()}})
		return
	}
	act, ok := postAction(data.CustomID)
	if !ok {
		// Every component interaction is acknowledged, even a stale one.
		b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate})
		return
	}
	w := interactionWho(i)
	ack := newAckGate()
	job := bot.Job{
		Platform: Platform, ChatID: w.chat, UserID: w.user, Group: w.guild,
		PhotoKey: act.Photo, Fetch: b.fetchPhoto(act.Photo),
		Override: act.Settings(),
		Variant:  act.Variant,
		Deliver: func(ctx context.Context, res bot.Result) error {
			return b.deliverToInteraction(ctx, i, ack, act.Photo, res, true)
		},
	}
	if !b.submit(job, func(err error) { b.respondText(i, bot.UserMessage(err), true) }) {
		return
	}
	ack.done(b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredMessageUpdate}))
}

// respond sends an interaction callback and logs a failure.
func (b *Bot) respond(i *discordgo.Interaction, r *discordgo.InteractionResponse) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := bot.Redact(b.dg.InteractionRespond(i, r, discordgo.WithContext(ctx)), i.Token)
	if err != nil {
		b.log.Error("answer interaction", "interaction", i.ID, "type", int(r.Type), "err", err)
	}
	return err
}

// respondText answers an interaction with a message, ephemeral if asked.
func (b *Bot) respondText(i *discordgo.Interaction, text string, ephemeral bool) {
	data := &discordgo.InteractionResponseData{Content: fit(text), AllowedMentions: noMentions()}
	if ephemeral {
		data.Flags = discordgo.MessageFlagsEphemeral
	}
	b.respond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data})
}

// ackGate lets a job's delivery wait until the interaction was acknowledged
// (Discord refuses edits of an unacknowledged interaction).
type ackGate struct {
	ch  chan struct{}
	err error
}

func newAckGate() *ackGate { return &ackGate{ch: make(chan struct{})} }

func (g *ackGate) done(err error) {
	g.err = err
	close(g.ch)
}

func (g *ackGate) wait(ctx context.Context) error {
	select {
	case <-g.ch:
		return g.err
	case <-ctx.Done():
		return ctx.Err()
	}
}
