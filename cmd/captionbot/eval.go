package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/captionbot/captionbot/captioner/metrics"
)

// evalUsage is the eval command's synopsis.
const evalUsage = `usage: captionbot eval --images DIR --captions TOKENFILE --split SPLITFILE
                     [--beam N] [--config FILE] [--json] [--out PREDICTIONS.jsonl]
       captionbot eval --predictions FILE.jsonl --captions TOKENFILE --split SPLITFILE [--json]
       captionbot eval --realworld PHOTOS.json [--network NAME] [--beam N] [--config FILE] [--json]`

// evalJSON is the --json output: one object.
type evalJSON struct {
	BLEU1    float64 `json:"bleu1"`
	BLEU2    float64 `json:"bleu2"`
	BLEU3    float64 `json:"bleu3"`
	BLEU4    float64 `json:"bleu4"`
	METEOR   float64 `json:"meteor"`
	ROUGEL   float64 `json:"rougeL"`
	CIDErD   float64 `json:"ciderD"`
	Distinct float64 `json:"distinct"`
	CHAIRs   float64 `json:"chair_s"`
	CHAIRi   float64 `json:"chair_i"`
	Images   int     `json:"images"`
}

// evalFlags are the eval command's options.
type evalFlags struct {
	images, captions, split  string
	predictions, out, config string
	beam                     int
	asJSON                   bool
	// realworld and network are the --realworld mode's (eval_realworld.go).
	realworld, network string
}

// usageError is a message for bad usage or missing inputs (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func runEval(ctx context.Context, dp deps, args []string, stdout, stderr io.Writer) int {
	var f evalFlags
	fl := flag.NewFlagSet("eval", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.StringVar(&f.images, "images", "", "folder of the split's photos (`DIR`)")
	fl.StringVar(&f.captions, "captions", "", "Flickr8k token file of reference captions (`TOKENFILE`)")
	fl.StringVar(&f.split, "split", "", "image names to score, one per line (`SPLITFILE`)")
	fl.IntVar(&f.beam, "beam", 0, "beam width `N` (default: the config's)")
	fl.StringVar(&f.config, "config", "", "TOML config `FILE` (default: built-in defaults)")
	fl.BoolVar(&f.asJSON, "json", false, "print the scores as one JSON object")
	fl.StringVar(&f.predictions, "predictions", "", "score saved predictions (`FILE.jsonl` of {\"image\",\"caption\"} lines, as caption --json prints) instead of captioning")
	fl.StringVar(&f.out, "out", "", "also write the predictions to `PREDICTIONS.jsonl`")
	fl.StringVar(&f.realworld, "realworld", "", "score naming on a real-world set (`PHOTOS.json`, e.g. testdata/realworld/photos.json) instead of a Flickr8k split")
	fl.StringVar(&f.network, "network", "", "with --realworld: write the offline post for network `NAME` (default "+defaultRealWorldNetwork+")")
	fl.Usage = func() {
		fmt.Fprintln(stderr, evalUsage)
		fmt.Fprintln(stderr, "\nCaptions every photo of the split (or reads --predictions) and prints BLEU-1..4,")
		fmt.Fprintln(stderr, "METEOR, ROUGE-L, CIDEr-D, the share of distinct captions and object hallucination")
		fmt.Fprintln(stderr, "(CHAIRs, CHAIRi). With --realworld it captions a real-world set and scores whether")
		fmt.Fprintln(stderr, "the caption, alt text and post name each photo's subjects without naming absent things.")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "captionbot eval: unexpected argument %q\n%s\n", fl.Arg(0), evalUsage)
		return exitUsage
	}
	err := evaluate(ctx, dp, f, stdout, stderr)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, new(usageError)) || isSetupError(err):
		fmt.Fprintf(stderr, "captionbot eval: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "captionbot eval: %v\n", err)
		return exitFailure
	}
}

func evaluate(ctx context.Context, dp deps, f evalFlags, stdout, stderr io.Writer) error {
	if f.realworld != "" {
		return evaluateRealWorld(ctx, dp, f, stdout, stderr)
	}
	switch {
	case f.network != "":
		return usagef("--network goes with --realworld")
	case f.captions == "" || f.split == "":
		return usagef("--captions and --split are required\n%s", evalUsage)
	case f.predictions == "" && f.images == "":
		return usagef("--images (or --predictions) is required\n%s", evalUsage)
	case f.predictions != "" && (f.images != "" || f.out != "" || f.beam != 0):
		return usagef("--predictions scores saved captions: it does not go with --images, --out or --beam")
	case f.beam < 0:
		return usagef("--beam must be at least 1")
	}
	refs, split, err := readReferences(f.captions, f.split)
	if err != nil {
		return err
	}
	var cands map[string]string
	if f.predictions != "" {
		cands, err = readPredictions(f.predictions, split)
	} else {
		cands, err = captionSplit(ctx, dp, f, split, stderr)
	}
	if err != nil {
		return err
	}
	scores, err := metrics.Evaluate(cands, refs)
	if err != nil {
		return err
	}
	if f.asJSON {
		b, _ := json.Marshal(evalJSON{
			BLEU1: scores.BLEU[0], BLEU2: scores.BLEU[1], BLEU3: scores.BLEU[2], BLEU4: scores.BLEU[3],
			METEOR: scores.METEOR, ROUGEL: scores.ROUGEL, CIDErD: scores.CIDErD,
			Distinct: scores.Distinct, CHAIRs: scores.CHAIR.Sentences, CHAIRi: scores.CHAIR.Instances,
			Images: scores.Images,
		}) // numbers only: cannot fail
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	printScores(stdout, scores)
	return nil
}

// readReferences reads the token file and the split, and checks that every
// image of the split has captions.
func readReferences(captionsPath, splitPath string) (map[string][]string, []string, error) {
	cf, err := os.Open(captionsPath)
	if err != nil {
		return nil, nil, usagef("captions: %v", err)
	}
	defer cf.Close()
	all, _, err := metrics.ReadTokenFile(cf)
	if err != nil {
		return nil, nil, usagef("captions %s: %v", captionsPath, err)
	}
	sf, err := os.Open(splitPath)
	if err != nil {
		return nil, nil, usagef("split: %v", err)
	}
	defer sf.Close()
	split, err := metrics.ReadSplitFile(sf)
	if err != nil {
		return nil, nil, usagef("split %s: %v", splitPath, err)
	}
	if len(split) == 0 {
		return nil, nil, usagef("split %s lists no images", splitPath)
	}
	refs := make(map[string][]string, len(split))
	var missing []string
	for _, name := range split {
		if caps := all[name]; len(caps) > 0 {
			refs[name] = caps
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, nil, usagef("%d images of the split have no captions in %s: %s", len(missing), captionsPath, sample(missing))
	}
	return refs, split, nil
}

// readPredictions reads JSON lines with "image" and "caption", keyed by the
// image's base name, and checks that every image of the split has one.
// Predictions for images outside the split are ignored.
func readPredictions(path string, split []string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usagef("predictions: %v", err)
	}
	defer f.Close()
	byName := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		var p struct {
			Image   string  `json:"image"`
			Caption *string `json:"caption"`
		}
		if err := json.Unmarshal([]byte(text), &p); err != nil {
			return nil, usagef("predictions %s:%d: %v", path, line, err)
		}
		if p.Image == "" || p.Caption == nil {
			return nil, usagef("predictions %s:%d: want an object with \"image\" and \"caption\"", path, line)
		}
		name := filepath.Base(filepath.ToSlash(p.Image))
		if prev, ok := byName[name]; ok && prev != *p.Caption {
			return nil, usagef("predictions %s:%d: a second, different caption for %s", path, line, name)
		}
		byName[name] = *p.Caption
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("predictions %s: %w", path, err)
	}
	cands := make(map[string]string, len(split))
	var missing []string
	for _, name := range split {
		c, ok := byName[name]
		if !ok {
			missing = append(missing, name)
			continue
		}
		cands[name] = c
	}
	if len(missing) > 0 {
		return nil, usagef("%d images of the split have no prediction in %s: %s", len(missing), path, sample(missing))
	}
	return cands, nil
}

// captionSplit captions every photo of the split with the configured
// captioner, writing --out as it goes.
func captionSplit(ctx context.Context, dp deps, f evalFlags, split []string, stderr io.Writer) (map[string]string, error) {
	items := make([]imageItem, len(split))
	var missing []string
	for i, name := range split {
		p := filepath.Join(f.images, name)
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, name)
		}
		items[i] = imageItem{path: p}
	}
	if len(missing) > 0 {
		return nil, usagef("%d images of the split are missing from %s: %s", len(missing), f.images, sample(missing))
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	if f.beam > 0 {
		cfg.Captioner.Beam = f.beam
	}
	var out *os.File
	var outW *bufio.Writer
	if f.out != "" {
		if out, err = os.Create(f.out); err != nil {
			return nil, usagef("--out: %v", err)
		}
		defer out.Close()
		outW = bufio.NewWriter(out)
	}
	d, closer, err := dp.openDescriber(cfg)
	if err != nil {
		return nil, err
	}
	defer closer.Close()

	bar := newProgress(stderr, len(items))
	cands := make(map[string]string, len(split))
	failures := map[string][]string{} // error message -> images
	failed := 0
	start := time.Now()
	captionAll(ctx, d, items, cfg.Captioner.sessions()+runtime.GOMAXPROCS(0), func(r captionResult) {
		bar.add()
		name := filepath.Base(r.line.Image)
		if r.err == nil && r.line.Caption == "" {
			r.err = errors.New("no caption (is the decoder model installed?)")
		}
		if r.err != nil {
			failures[r.err.Error()] = append(failures[r.err.Error()], name)
			failed++
			return
		}
		cands[name] = r.line.Caption
		if outW != nil {
			b, _ := json.Marshal(r.line) // plain structs and numbers: cannot fail
			outW.Write(append(b, '\n'))
		}
	})
	bar.finish()
	if outW != nil {
		if err := outW.Flush(); err != nil {
			return nil, fmt.Errorf("--out: %w", err)
		}
		if err := out.Close(); err != nil {
			return nil, fmt.Errorf("--out: %w", err)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("interrupted after %d of %d images", len(cands), len(items))
	}
	if failed > 0 {
		msgs := make([]string, 0, len(failures))
		for msg, names := range failures {
			msgs = append(msgs, fmt.Sprintf("%s (%s)", msg, sample(names)))
		}
		slices.Sort(msgs)
		return nil, fmt.Errorf("%d of %d images could not be captioned, so no scores: %s", failed, len(items), strings.Join(msgs, "; "))
	}
	fmt.Fprintf(stderr, "captioned %d images in %s (beam %d)\n", len(cands), time.Since(start).Round(time.Millisecond), cfg.Captioner.Beam)
	return cands, nil
}

// sample lists up to five names.
func sample(names []string) string {
	if len(names) <= 5 {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:5], ", ") + fmt.Sprintf(", ... (%d more)", len(names)-5)
}

func printScores(w io.Writer, s metrics.Scores) {
	fmt.Fprintf(w, "%-9s %7s\n", "metric", "score")
	for i, b := range s.BLEU {
		fmt.Fprintf(w, "%-9s %7.4f\n", fmt.Sprintf("BLEU-%d", i+1), b)
	}
	fmt.Fprintf(w, "%-9s %7.4f  (%s)\n", "METEOR", s.METEOR, s.METEORModules)
	fmt.Fprintf(w, "%-9s %7.4f\n", "ROUGE-L", s.ROUGEL)
	fmt.Fprintf(w, "%-9s %7.4f\n", "CIDEr-D", s.CIDErD)
	fmt.Fprintf(w, "%-9s %6.1f%%  (%d distinct captions for %d images)\n", "distinct",
		s.Distinct*100, int(s.Distinct*float64(s.Images)+0.5), s.Images)
	fmt.Fprintf(w, "%-9s %7.4f  (captions naming an object no reference names)\n", "CHAIRs", s.CHAIR.Sentences)
	fmt.Fprintf(w, "%-9s %7.4f  (of %d objects named)\n", "CHAIRi", s.CHAIR.Instances, s.CHAIR.Mentions)
}

// progress is a progress bar on stderr when stderr is a terminal, and
// nothing otherwise (logs and pipes stay clean).
type progress struct{ bar *progressbar.ProgressBar }

func newProgress(stderr io.Writer, n int) progress {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return progress{}
	}
	return progress{progressbar.NewOptions(n,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("captioning"),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p progress) add() {
	if p.bar != nil {
		p.bar.Add(1)
	}
}

func (p progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
