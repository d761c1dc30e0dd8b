// Package bot is the platform-neutral core of captionbot: the domain types
// (a photo's Description, a network-styled Post, a user's Settings), the
// interfaces the core consumes (Describer, Refiner, Preferences), and the
// service that runs the job flow photo → caption → refined post with bounded
// concurrency, rate limits and user-facing errors.
//
// Package bot imports no adapter; adapters implement its interfaces.
//
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
// The buttons under a post are PostActions (Regenerate, the next tone,
// every other network), the same on every platform; they submit the same
// PhotoKey again with the action's Variant and Settings as Job.Override: the
// raw description comes from the cache (CacheTTL), so only the refiner runs.
// Settings resolve per field: per-job override > chat (in groups) > user >
// bot default; see Service.Effective.
//
// The rest of the chat flow's platform-neutral pieces live here too, so
// that every front end behaves the same and keeps only transport and
// rendering:
//
//	if err := bot.CheckFile(name, mimeType, size, limit); err != nil { reply(bot.UserMessage(err)) }
//	stop := typing.Start(ctx, chat)                  // bot.Typing: one loop per chat; stop on delivery
//	if !notices.Quiet(chat, user, err, now) { ... } // bot.Notices: one refusal notice per burst
//	data, err := bot.ReadLimited(body, limit)       // in Job.Fetch: *FileTooLargeError past limit
//	for _, part := range bot.SplitText(res.Post.Text, 4096, bot.UTF16Units) { send(part) }
//	for _, a := range bot.PostActions(photo, res.Settings, res.Variant) {
//		button(a.Emoji(), a.Label(), a.Data()) // Data fits 64 bytes
//	}
//	a, ok := bot.ParsePostAction(data) // a button came back: check, then submit
//	log.Warn("send failed", "err", bot.Redact(err, token))
//	bot.WaitJobs(&jobs, timeout) // at shutdown
package bot
