// Package bot is the platform-neutral core of captionbot: the domain types
// (a photo's Description, a network-styled Post, a user's Settings), the
// interfaces the core consumes (Describer, Refiner, Preferences), and the
// service that runs the job flow photo → caption → refined post with bounded
// concurrency, rate limits and user-facing errors.
//
// Package bot imports no adapter; adapters implement its interfaces.
package bot

// Using the core from an adapter:
//
//	svc := bot.NewService(captioner, refiner, prefs)
//	svc.Workers = 4 // options are documented fields; set them before Start
//	go svc.Run(ctx) // returns after accepted jobs are delivered
//
//	// a photo arrived:
//	err := svc.Submit(bot.Job{Platform: "telegram", ChatID: "42", UserID: "42",
//		PhotoKey: fileUniqueID, Fetch: download, Deliver: reply})
//	if err != nil { sendText(bot.UserMessage(err)) } // busy, rate limited, stopped
//
//	// a command arrived:
//	if cmd, ok := bot.ParseCommand(text, botName); ok {
//		reply := svc.HandleCommand(ctx, bot.CommandRequest{..., Command: cmd})
//	}
//
// Regenerate and network buttons submit the same PhotoKey again with
// Variant+1 or Override.Network: the raw description comes from the cache
// (CacheTTL), so only the refiner runs. Settings resolve per field: per-job
// override > chat (in groups) > user > bot default; see Service.Effective.
