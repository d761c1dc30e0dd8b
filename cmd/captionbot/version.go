package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/captionbot/captionbot/captioner"
)

// version is captionbot's version; release builds set it with
// -ldflags "-X main.version=v1.2.3". Empty: taken from the build info.
var version = ""

func runVersion(ctx context.Context, _ deps, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("version", flag.ContinueOnError)
	fl.SetOutput(stderr)
	configPath := fl.String("config", "", "TOML config `FILE` (for captioner.onnxruntime_library)")
	if err := fl.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return exitOK
		}
		return exitUsage
	}
	fmt.Fprintf(stdout, "captionbot %s\n", buildVersion())
	fmt.Fprintf(stdout, "go         %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	path, err := captioner.InitRuntime(cfg.Captioner.ONNXRuntimeLibrary)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "onnxruntime %s (%s)\n", captioner.RuntimeVersion(), path)
	return exitOK
}

// buildVersion is version, else the module version and VCS revision Go
// recorded in the binary.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+dirty"
			}
		}
	}
	if rev != "" && v == "(devel)" {
		v = "devel " + rev[:min(12, len(rev))] + modified
	}
	return v
}
