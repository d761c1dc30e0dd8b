package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner"
)

// openCaptionerDescriber loads the captioner as what captions the photos
// (deps.openDescriber).
func openCaptionerDescriber(cfg *config) (bot.Describer, io.Closer, error) {
	c, err := openCaptioner(cfg)
	if err != nil {
		return nil, nil, err
	}
	return c, c, nil
}

// captionLine is the result for one photo: one JSON line with --json.
type captionLine struct {
	Image  string      `json:"image"`
	Labels []bot.Label `json:"labels"`
	// Caption is the grounded sentence; RawCaption the decoder's own.
	Caption    string  `json:"caption,omitempty"`
	RawCaption string  `json:"raw_caption,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// Objects are the detector's, best first: null without a detector,
	// [] when it found nothing.
	Objects    []bot.Object `json:"objects"`
	EncoderMS  float64      `json:"encoder_ms"`
	DetectorMS float64      `json:"detector_ms,omitempty"`
	DecoderMS  float64      `json:"decoder_ms,omitempty"`
	MS         float64      `json:"ms"`
	// PostFields are set with --network (caption_post.go).
	*PostFields
	// desc is the whole description, for the refiner (subjects included).
	desc bot.Description
}

func runCaption(ctx context.Context, dp deps, args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("caption", flag.ContinueOnError)
	fl.SetOutput(stderr)
	asJSON := fl.Bool("json", false, "print one JSON object per photo per line")
	configPath := fl.String("config", "", "TOML config `FILE` (default: built-in defaults)")
	batch := fl.Int("batch", defaultCaptionBatch, "caption up to `N` photos per encoder run and beam search (1: one photo at a time)")
	post := addPostFlags(fl)
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: captionbot caption [--json] [--batch N] [--config FILE] [--network NAME [--tone T] [--lang CODE] [--hashtags N] [--hint TEXT]] PATH...")
		fmt.Fprintln(stderr, "\nCaptions photos (JPEG, PNG, GIF, WebP); folders are searched recursively.")
		fl.PrintDefaults()
	}
	paths, err := parseInterleaved(fl, args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	if len(paths) == 0 {
		fl.Usage()
		return exitUsage
	}
	if *batch < 1 || *batch > captioner.MaxBatch {
		fmt.Fprintf(stderr, "captionbot: --batch must be between 1 and %d\n", captioner.MaxBatch)
		return exitUsage
	}
	if err := post.check(); err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	cfg, err := loadConfig(*configPath)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}
	d, closer, err := dp.openDescriber(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		if isSetupError(err) {
			return exitUsage
		}
		return exitFailure
	}
	defer closer.Close()
	if err := post.open(cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "captionbot: %v\n", err)
		return exitUsage
	}

	items := listImages(paths)
	inflight := cfg.Captioner.sessions() + runtime.GOMAXPROCS(0)
	failed, interrupted := 0, false
	emit := func(r captionResult) {
		if r.err != nil {
			failed++
			if ctx.Err() != nil && errors.Is(r.err, ctx.Err()) {
				if !interrupted {
					fmt.Fprintln(stderr, "captionbot: interrupted")
				}
				interrupted = true
				return
			}
			fmt.Fprintf(stderr, "captionbot: %s: %v\n", r.line.Image, r.err)
			return
		}
		if err := post.refine(ctx, &r.line); err != nil {
			failed++
			fmt.Fprintf(stderr, "captionbot: %s: %v\n", r.line.Image, err)
			return
		}
		if *asJSON {
			b, _ := json.Marshal(r.line) // plain structs and numbers: cannot fail
			fmt.Fprintf(stdout, "%s\n", b)
			return
		}
		if r.line.PostFields != nil {
			printPostText(stdout, r.line)
			return
		}
		printCaptionText(stdout, r.line)
	}
	if bd, ok := d.(batchDescriber); ok && *batch > 1 {
		// A batch per session, and one more being read and decoded.
		captionAllBatched(ctx, bd, items, *batch, cfg.Captioner.sessions()+1, emit)
	} else {
		captionAll(ctx, d, items, inflight, emit)
	}
	if ctx.Err() != nil || failed > 0 {
		return exitFailure
	}
	return exitOK
}

// parseInterleaved parses flags placed before, between or after the
// positional arguments ("captionbot caption photo.jpg --json"); after "--"
// everything is a path.
func parseInterleaved(fl *flag.FlagSet, args []string) ([]string, error) {
	var paths []string
	for {
		if err := fl.Parse(args); err != nil {
			return nil, err
		}
		rest := fl.Args()
		if len(rest) == 0 {
			return paths, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(paths, rest...), nil
		}
		paths = append(paths, rest[0])
		args = rest[1:]
	}
}

// imageItem is one file to caption, or a command-line path that failed.
type imageItem struct {
	path string
	err  error
}

// errNoImages is reported for a folder that holds no image files.
var errNoImages = errors.New("no JPEG, PNG, GIF or WebP files in this folder")

// listImages expands the command-line paths in order: files as given,
// folders recursively (images only, by extension, in lexical order).
// Links to files are followed; links to folders are not, so a link loop
// cannot make the walk endless. A folder without images is an error, so
// a wrong path does not pass silently.
func listImages(paths []string) []imageItem {
	var items []imageItem
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			items = append(items, imageItem{path: p, err: cleanPathError(err)})
			continue
		}
		if !fi.IsDir() {
			items = append(items, imageItem{path: p})
			continue
		}
		found := len(items)
		err = filepath.WalkDir(p, func(path string, de fs.DirEntry, err error) error {
			if err != nil {
				items = append(items, imageItem{path: path, err: cleanPathError(err)})
				return nil
			}
			// Folders give their photos by extension; files named on the
			// command line are tried whatever theirs.
			if !bot.IsImageFile(path, "") {
				return nil
			}
			switch {
			case de.Type().IsRegular():
				items = append(items, imageItem{path: path})
			case de.Type()&fs.ModeSymlink != 0:
				if fi, err := os.Stat(path); err != nil {
					items = append(items, imageItem{path: path, err: cleanPathError(err)})
				} else if fi.Mode().IsRegular() {
					items = append(items, imageItem{path: path})
				}
			}
			return nil
		})
		if err != nil {
			items = append(items, imageItem{path: p, err: err})
		} else if len(items) == found {
			items = append(items, imageItem{path: p, err: errNoImages})
		}
	}
	return items
}

// cleanPathError drops the path from an *fs.PathError: the caller prints it.
func cleanPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type captionResult struct {
	line captionLine
	err  error
}

// captionAll captions the items with at most inflight of them in progress
// (so reading and decoding overlap with inference, in bounded memory), and
// calls emit for each, in input order.
func captionAll(ctx context.Context, d bot.Describer, items []imageItem, inflight int, emit func(captionResult)) {
	results := make([]chan captionResult, len(items))
	for i := range results {
		results[i] = make(chan captionResult, 1)
	}
	slots := make(chan struct{}, max(inflight, 1))
	go func() {
		for i, it := range items {
			slots <- struct{}{} // emit frees a slot per result
			go func() {
				line, err := captionOne(ctx, d, it)
				results[i] <- captionResult{line, err}
			}()
		}
	}()
	for i := range items {
		r := <-results[i]
		<-slots
		emit(r)
	}
}

// captionOne is the work for one photo: read it, describe it.
func captionOne(ctx context.Context, d bot.Describer, it imageItem) (captionLine, error) {
	line := captionLine{Image: it.path}
	if it.err != nil {
		return line, it.err
	}
	if err := ctx.Err(); err != nil {
		return line, err
	}
	start := time.Now()
	data, err := readImageFile(it.path)
	if err != nil {
		return line, err
	}
	desc, err := d.Describe(ctx, data)
	if err != nil {
		return line, err
	}
	fillCaptionLine(&line, desc, start)
	return line, nil
}

// fillCaptionLine sets line's fields from desc; start is when reading the
// photo began.
func fillCaptionLine(line *captionLine, desc bot.Description, start time.Time) {
	line.desc = desc
	line.Labels = desc.Labels
	line.Caption = desc.Caption
	line.RawCaption = desc.RawCaption
	line.Confidence = desc.Confidence
	line.Objects = desc.Objects
	line.EncoderMS = millis(desc.EncoderTime)
	line.DetectorMS = millis(desc.DetectorTime)
	line.DecoderMS = millis(desc.DecoderTime)
	line.MS = millis(time.Since(start))
}

// readImageFile reads a photo, refusing files over captioner.MaxImageBytes
// before reading them.
func readImageFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, cleanPathError(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, captioner.MaxImageBytes+1))
	if err != nil {
		return nil, cleanPathError(err)
	}
	if len(data) > captioner.MaxImageBytes {
		return nil, fmt.Errorf("the file is more than %d MB: %w", captioner.MaxImageBytes>>20, bot.ErrImageTooLarge)
	}
	return data, nil
}

// millis is d in milliseconds, to 0.1 ms.
func millis(d time.Duration) float64 {
	return math.Round(float64(d)/float64(time.Millisecond)*10) / 10
}

func printCaptionText(w io.Writer, l captionLine) {
	fmt.Fprintln(w, l.Image)
	if l.Caption != "" {
		fmt.Fprintf(w, "  caption: %s\n", l.Caption)
	}
	if l.RawCaption != "" && l.RawCaption != l.Caption {
		fmt.Fprintf(w, "  decoder: %s\n", l.RawCaption)
	}
	labels := make([]string, len(l.Labels))
	for i, lb := range l.Labels {
		labels[i] = fmt.Sprintf("%s (%.0f%%)", lb.Label, lb.Score*100)
	}
	fmt.Fprintf(w, "  labels:  %s\n", strings.Join(labels, ", "))
	if l.Objects != nil {
		objs := make([]string, len(l.Objects))
		for i, o := range l.Objects {
			objs[i] = fmt.Sprintf("%s (%.0f%%) at %d,%d %dx%d", o.Label, o.Score*100, o.Box[0], o.Box[1], o.Box[2], o.Box[3])
		}
		if len(objs) == 0 {
			objs = []string{"none found"}
		}
		fmt.Fprintf(w, "  objects: %s\n", strings.Join(objs, ", "))
	}
	timing := fmt.Sprintf("encoder %.1f ms", l.EncoderMS)
	if l.DetectorMS > 0 {
		timing += fmt.Sprintf(", detector %.1f ms", l.DetectorMS)
	}
	if l.DecoderMS > 0 {
		timing += fmt.Sprintf(", decoder %.1f ms", l.DecoderMS)
	}
	fmt.Fprintf(w, "  time:    %s, total %.1f ms\n", timing, l.MS)
}
