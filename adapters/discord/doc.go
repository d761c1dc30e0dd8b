// Package discord is captionbot's Discord adapter, on bwmarrin/discordgo: it
// registers the slash and context-menu commands, turns image attachments
// (slash command options, context-menu targets, DMs, mentions in guild
// channels) into bot jobs, and answers with posts and buttons.
package discord
