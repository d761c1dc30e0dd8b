// Package discord is captionbot's Discord adapter, on bwmarrin/discordgo. It
// connects one bot.Service to Discord:
//
//   - slash commands, registered at start (globally or in one guild):
//     /caption with an image attachment and optional network, tone, language
//     and hint; /network, /tone, /lang, /hashtags and /settings, answered
//     ephemerally by the core's command handler;
//   - a message context-menu command, "Caption this photo";
//   - image attachments in DMs, and in guild channels only on messages that
//     mention the bot;
//   - interactions are deferred at once and the deferred reply is edited
//     with the post; the buttons under a post are bot.PostActions
//     (regenerate, next tone, every other network), and every component
//     interaction is acknowledged;
//   - posts are split to Discord's 2,000-character limit and never ping.
//
// Work runs on the service's worker pool, with its rate limits and shutdown
// rules; replies go over REST, so a gateway drop (discordgo reconnects and
// resumes) loses no job in flight. Gateway events are handled by a fixed set
// of goroutines from a bounded queue.
//
// SetAPIBase and Config.GatewayURL point discordgo at a proxy or at the fake
// Discord in package discordtest.
package discord
