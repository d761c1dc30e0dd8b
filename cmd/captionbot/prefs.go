package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/captionbot/captionbot/bot"
)

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
	configPath := fl.String("config", "", "TOML config `FILE` (its [store] is used)")
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
	if verb == "export" && cfg.Store.Driver == "bolt" {
		if _, err := os.Stat(cfg.Store.Path); err != nil {
			fmt.Fprintf(stderr, "captionbot: no settings store at %s\n", cfg.Store.Path)
			return exitUsage
		}
	}
	st, err := openStore(ctx, cfg, nil)
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
