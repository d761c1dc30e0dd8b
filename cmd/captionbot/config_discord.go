package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/captionbot/captionbot/adapters/discord"
)

// discordConfig is the [discord] section.
type discordConfig struct {
	// Token is the bot token from the Developer Portal (Bot → Reset Token);
	// $CAPTIONBOT_DISCORD_TOKEN wins. Empty: the Discord adapter does not
	// start.
	Token string `toml:"token"`
	// ApplicationID is the application's ID (General Information); empty:
	// the one the gateway's READY names.
	ApplicationID string `toml:"application_id"`
	// GuildID registers the commands in one server only (they appear at
	// once; global commands can take a while). Empty: global.
	GuildID string `toml:"guild_id"`
	// MessageContent asks for the privileged MESSAGE_CONTENT intent; switch
	// it on in the Developer Portal too.
	MessageContent bool `toml:"message_content"`
	// APIBase replaces https://discord.com/ (REST goes to {api_base}api/v9/),
	// GatewayURL is the websocket dialled instead of asking GET /gateway:
	// for proxies and tests.
	APIBase    string `toml:"api_base"`
	GatewayURL string `toml:"gateway_url"`
	// ShardID and ShardCount split a large install over processes (one
	// process per shard); shard_count 1 means no sharding.
	ShardID    int `toml:"shard_id"`
	ShardCount int `toml:"shard_count"`
	// MaxAttachmentMB is the largest attachment downloaded.
	MaxAttachmentMB int `toml:"max_attachment_mb"`
}

// envDiscordToken wins over [discord] token.
const envDiscordToken = "CAPTIONBOT_DISCORD_TOKEN"

func (dc *discordConfig) defaults() {
	*dc = discordConfig{ShardCount: 1, MaxAttachmentMB: discord.DefaultMaxAttachmentBytes >> 20}
}

// check applies the environment variable and checks the section.
func (dc *discordConfig) check() error {
	if v := os.Getenv(envDiscordToken); v != "" {
		dc.Token = v
	}
	if dc.Token == "" {
		return nil // adapter off: nothing else matters
	}
	if dc.ShardCount < 1 {
		return fmt.Errorf("discord.shard_count is %d; it must be at least 1", dc.ShardCount)
	}
	if dc.ShardID < 0 || dc.ShardID >= dc.ShardCount {
		return fmt.Errorf("discord.shard_id is %d; use 0 to shard_count-1 (%d)", dc.ShardID, dc.ShardCount-1)
	}
	if dc.MaxAttachmentMB < 1 || dc.MaxAttachmentMB > 500 {
		return fmt.Errorf("discord.max_attachment_mb is %d; use 1 to 500", dc.MaxAttachmentMB)
	}
	// The adapter checks the rest (api_base, gateway_url).
	return dc.adapterConfig(nil).Validate()
}

// adapterConfig is the adapter's Config for this section.
func (dc discordConfig) adapterConfig(log *slog.Logger) discord.Config {
	return discord.Config{
		Token:              dc.Token,
		ApplicationID:      dc.ApplicationID,
		GuildID:            dc.GuildID,
		MessageContent:     dc.MessageContent,
		APIBase:            dc.APIBase,
		GatewayURL:         dc.GatewayURL,
		ShardID:            dc.ShardID,
		ShardCount:         dc.ShardCount,
		MaxAttachmentBytes: int64(dc.MaxAttachmentMB) << 20,
		Log:                log,
	}
}
