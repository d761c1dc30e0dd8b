package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfigDiscord(t *testing.T) {
	t.Setenv(envDiscordToken, "")
	p := writeConfig(t, `
[discord]
token = "file-token"
application_id = "42"
guild_id = "7"
message_content = true
api_base = "http://127.0.0.1:9/"
gateway_url = "ws://127.0.0.1:9/gateway"
shard_id = 1
shard_count = 3
max_attachment_mb = 4
`)
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := discordConfig{Token: "file-token", ApplicationID: "42", GuildID: "7", MessageContent: true,
		APIBase: "http://127.0.0.1:9/", GatewayURL: "ws://127.0.0.1:9/gateway", ShardID: 1, ShardCount: 3, MaxAttachmentMB: 4}
	if diff := cmp.Diff(want, cfg.Discord); diff != "" {
		t.Errorf("[discord] (-want +got):\n%s", diff)
	}
	if got := cfg.Discord.adapterConfig(nil).MaxAttachmentBytes; got != 4<<20 {
		t.Errorf("max attachment bytes = %d", got)
	}

	t.Setenv(envDiscordToken, "env-token")
	cfg, err = loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discord.Token != "env-token" {
		t.Errorf("token = %q, want the environment's", cfg.Discord.Token)
	}
}

func TestLoadConfigDiscordDefaultsAndErrors(t *testing.T) {
	t.Setenv(envDiscordToken, "")
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discord.Token != "" || cfg.Discord.ShardCount != 1 || cfg.Discord.MaxAttachmentMB != 10 {
		t.Errorf("default [discord] = %+v", cfg.Discord)
	}
	for _, tc := range []struct{ text, want string }{
		{"[discord]\ntoken = \"t\"\nshard_id = 2\nshard_count = 2\n", "discord.shard_id"},
		{"[discord]\ntoken = \"t\"\nshard_count = 0\n", "discord.shard_count"},
		{"[discord]\ntoken = \"t\"\nmax_attachment_mb = 0\n", "discord.max_attachment_mb"},
		{"[discord]\ntoken = \"t\"\ngateway_url = \"https://x/\"\n", "gateway_url"},
		{"[discord]\ntoken = \"t\"\napi_base = \"discord.com\"\n", "api_base"},
		{"[discord]\ntoken = \"t\"\nintents = 5\n", "discord.intents"},
	} {
		_, err := loadConfig(writeConfig(t, tc.text))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: err = %v, want one naming %s", tc.text, err, tc.want)
		}
	}
	// Without a token the section is off and not checked.
	if _, err := loadConfig(writeConfig(t, "[discord]\nshard_count = 0\n")); err != nil {
		t.Errorf("tokenless section: %v", err)
	}
}
