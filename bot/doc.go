// Package bot is the platform-neutral core of captionbot: the domain types
// (a photo's Description, a network-styled Post, a user's Settings), the
// interfaces the core consumes (Describer, Refiner, Preferences), and the
// service that runs the job flow photo → caption → refined post with bounded
// concurrency, rate limits and user-facing errors.
//
// Package bot imports no adapter; adapters implement its interfaces.
package bot
