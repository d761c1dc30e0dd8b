package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/captionbot/captionbot/adapters/bolt"
	"github.com/captionbot/captionbot/bot"
)

// openStore opens the [store] database, with a clear message when another
// captionbot holds it.
func openStore(cfg *config) (*bolt.Store, error) {
	st, err := bolt.Open(cfg.Store.Path, time.Second)
	switch {
	case errors.Is(err, bolt.ErrLocked):
		return nil, fmt.Errorf("%s is in use by another captionbot process; stop it first (or use another [store] path)", cfg.Store.Path)
	case errors.Is(err, bolt.ErrCorrupt):
		return nil, fmt.Errorf("%w\n"+
			"The settings store is damaged. Move %s aside (captionbot then starts with an empty store), "+
			"and restore the settings from a backup made with 'captionbot prefs export': "+
			"'captionbot prefs import --config FILE BACKUP.json'", err, cfg.Store.Path)
	}
	return st, err
}

func runPrefs(ctx context.Context, _ deps, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: captionbot prefs export [--config FILE] [OUTFILE]   (default: stdout)")
		fmt.Fprintln(stderr, "       captionbot prefs import [--config FILE] [INFILE]    (default: stdin)")
		fmt.Fprintln(stderr, "\nExports or imports every user's and chat's settings as JSON. Stop the bot first.")
	}
	if len(args) == 0 || (args[0] != "export" && args[0] != "import") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			usage()
			return exitOK
		}
		usage()
		return exitUsage
	}
	verb := args[0]
	fl := flag.NewFlagSet("prefs "+verb, flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "TOML config `FILE` (its [store] path is used)")
	fl.Usage = usage
	files, err := parseInterleaved(fl, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil || len(files) > 1 {
		usage()
		return exitUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	if verb == "export" {
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			fmt.Fprintf(stderr, "captionbot: no settings store at %s\n", cfg.Store.Path)
			return exitUsage
		}
	}
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	defer st.Close()

	if verb == "export" {
		w := stdout
		if len(files) == 1 {
			f, err := os.OpenFile(files[0], os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				fmt.Fprintf(stderr, "captionbot: %v\n", err)
				return exitFailure
			}
			defer f.Close()
			w = f
		}
		n, err := bot.ExportPreferences(ctx, st, w)
		if err != nil {
			fmt.Fprintf(stderr, "captionbot: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stderr, "exported %d settings records\n", n)
		return exitOK
	}

	r := io.Reader(os.Stdin)
	if len(files) == 1 {
		f, err := os.Open(files[0])
		if err != nil {
			fmt.Fprintf(stderr, "captionbot: %v\n", err)
			return exitUsage
		}
		defer f.Close()
		r = f
	}
	n, err := bot.ImportPreferences(ctx, st, r)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		if errors.Is(err, bot.ErrBadBackup) {
			return exitUsage
		}
		return exitFailure
	}
	fmt.Fprintf(stderr, "imported %d settings records\n", n)
	return exitOK
}
