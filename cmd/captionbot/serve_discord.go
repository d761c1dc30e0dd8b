package main

import (
	"context"
	"time"

	"github.com/captionbot/captionbot/adapters/discord"
)

// connectDiscord starts the Discord adapter: gateway connection and command
// registration; the returned run handles events until ctx ends.
func connectDiscord(_ context.Context, cfg *config, env platformEnv) (func(context.Context) error, error) {
	dc := cfg.Discord.adapterConfig(env.Log)
	dc.ShutdownTimeout = cfg.Bot.ShutdownGrace.Duration + time.Minute
	dc.PhotoTTL = cfg.Bot.CacheTTL.Duration
	b, err := discord.New(dc, env.Service)
	if err != nil {
		return nil, err
	}
	if err := b.Connect(); err != nil {
		return nil, err
	}
	return b.Run, nil
}
