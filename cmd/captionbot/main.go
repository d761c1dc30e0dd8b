// Command captionbot captions photos offline and serves the chat bot.
//
//	captionbot caption [--json] [--config FILE] PATH...
//	captionbot eval --images DIR --captions TOKENFILE --split SPLITFILE
//	captionbot serve [--config FILE]   (web playground and API on [http] listen, chat bots with tokens)
//	captionbot version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitFailure = 1 // some work failed (e.g. an image could not be captioned)
	exitUsage   = 2 // bad usage or a setup problem
)

// command is one subcommand; each lives in its own file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, dp deps, args []string, stdout, stderr io.Writer) int
}

// deps are what the subcommands build from a config: main passes the real
// ones (defaultDeps), tests their fakes.
type deps struct {
	// openDescriber loads what captions the photos.
	openDescriber func(cfg *config) (bot.Describer, io.Closer, error)
	// newService builds serve's bot.Service (the benchmark wraps it to time
	// the captioner and the refiner).
	newService func(d bot.Describer, r bot.Refiner, p bot.Preferences) *bot.Service
	// storeCheckEvery is how often serve checks that the store's file is
	// still the one it opened (writes check it too).
	storeCheckEvery time.Duration
	// connectRetry paces serve's reconnects to a platform that is down.
	connectRetry backoff
}

// defaultDeps are the real dependencies: the ONNX captioner and
// bot.NewService.
func defaultDeps() deps {
	return deps{
		openDescriber:   openCaptionerDescriber,
		newService:      bot.NewService,
		storeCheckEvery: 30 * time.Second,
		connectRetry:    backoff{base: time.Second, max: time.Minute},
	}
}

// commands are the subcommands, in the order usage lists them.
func commands() []command {
	return []command{
		{"caption", "caption photos offline: captionbot caption [--json] [--config FILE] [--network NAME ...] PATH...", runCaption},
		{"eval", "score captions on a Flickr8k split: captionbot eval --images DIR --captions TOKENFILE --split SPLITFILE", runEval},
		{"prefs", "back up settings: captionbot prefs export|import [--config FILE] [FILE]", runPrefs},
		{"serve", "run the web playground and the chat bots: captionbot serve [--config FILE]", runServe},
		{"version", "print the versions of captionbot, Go and ONNX Runtime", runVersion},
	}
}

// findCommand returns the subcommand called name.
func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// gcPercent is the Go collector's target when GOGC is not set. The Go heap
// is small next to ONNX Runtime's (about 16 MB live while captioning, 35 MB
// at its peak with Go's default of 100), so collecting at 50% growth keeps
// peak RSS about 8 MB lower for little CPU (models/README.md, Whole
// pipeline).
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, defaultDeps(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, dp deps, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	c, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "captionbot: unknown command %q\n", args[0])
		usage(stderr)
		return exitUsage
	}
	return c.run(ctx, dp, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: captionbot COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'captionbot COMMAND -h' for a command's flags.")
}
