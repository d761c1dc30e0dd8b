package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner/metrics"
	"github.com/captionbot/captionbot/prompts"
	"github.com/captionbot/captionbot/refiner"
)

// defaultRealWorldNetwork is the network whose post --realworld scores.
const defaultRealWorldNetwork = "instagram"

// The texts --realworld scores, in report order. rawCaption is reported only
// when the describer gives a RawCaption (the decoder's sentence before
// grounding).
const (
	textCaption    = "caption"
	textRawCaption = "raw_caption"
	textAltText    = "alt_text"
	textPost       = "post"
)

// realWorldJSON is the --realworld --json output: one object.
type realWorldJSON struct {
	Network string `json:"network"`
	Refiner string `json:"refiner"`
	// Texts name the scored texts in order; Totals has one entry per text.
	Texts  []string                       `json:"texts"`
	Totals map[string]realWorldTotalsJSON `json:"totals"`
	Photos []realWorldPhotoJSON           `json:"photos"`
}

type realWorldTotalsJSON struct {
	metrics.RealWorldScores
	RightRate        float64 `json:"right_rate"`
	HallucinatedRate float64 `json:"hallucinated_rate"`
	SubjectRecall    float64 `json:"subject_recall"`
}

type realWorldPhotoJSON struct {
	File string `json:"file"`
	// Texts are the scored texts by name; Checks what each names.
	Texts  map[string]string             `json:"texts"`
	Checks map[string]realWorldCheckJSON `json:"checks"`
}

type realWorldCheckJSON struct {
	Right bool `json:"right"`
	metrics.TextCheck
}

// realWorldResult is one photo's texts, by name.
type realWorldResult struct {
	photo metrics.RealWorldPhoto
	texts map[string]string
}

// evaluateRealWorld is eval --realworld: caption every photo of the set
// with the configured describer, write its offline post, and score the
// caption, the alt text and the post (and the raw caption, when there is
// one) for naming.
func evaluateRealWorld(ctx context.Context, dp deps, f evalFlags, stdout, stderr io.Writer) error {
	switch {
	case f.images != "" || f.captions != "" || f.split != "" || f.predictions != "" || f.out != "":
		return usagef("--realworld does not go with --images, --captions, --split, --predictions or --out")
	case f.beam < 0:
		return usagef("--beam must be at least 1")
	}
	network := f.network
	if network == "" {
		network = defaultRealWorldNetwork
	}
	n, err := prompts.Lookup(network)
	if err != nil {
		return usagef("--network: %v", err)
	}
	set, err := readRealWorldSet(f.realworld)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.realworld)
	var missing []string
	for _, p := range set.Photos {
		if fi, err := os.Stat(filepath.Join(dir, p.File)); err != nil || !fi.Mode().IsRegular() {
			missing = append(missing, p.File)
		}
	}
	if len(missing) > 0 {
		return usagef("%d photos of %s are missing from %s: %s", len(missing), f.realworld, dir, sample(missing))
	}
	cfg, err := loadConfig(f.config)
	if err != nil {
		return usageError{err.Error()}
	}
	if f.beam > 0 {
		cfg.Captioner.Beam = f.beam
	}
	d, closer, err := dp.openDescriber(cfg)
	if err != nil {
		return err
	}
	defer closer.Close()

	// The offline refiner, whatever the config says: the scores are of our
	// own texts, reproducible and without a network. It gets the whole
	// description (caption --network passes its caption, confidence and
	// labels, all the offline refiner reads).
	var post refiner.Offline
	results := make([]realWorldResult, len(set.Photos))
	var failures []string
	bar := newProgress(stderr, len(set.Photos))
	start := time.Now()
	describeAll(ctx, d, dir, set.Photos, cfg.Captioner.Sessions+runtime.GOMAXPROCS(0), func(i int, desc bot.Description, err error) {
		bar.add()
		p := set.Photos[i]
		if err == nil && desc.Caption == "" {
			err = errors.New("no caption (is the decoder model installed?)")
		}
		var pst bot.Post
		if err == nil {
			pst, err = post.Refine(ctx, bot.RefineRequest{Description: desc, Network: n.Name, Hashtags: -1})
		}
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s: %v", p.File, err))
			return
		}
		texts := map[string]string{textCaption: desc.Caption, textAltText: pst.AltText, textPost: pst.Text}
		if desc.RawCaption != "" {
			texts[textRawCaption] = desc.RawCaption
		}
		results[i] = realWorldResult{photo: p, texts: texts}
	})
	bar.finish()
	if err := ctx.Err(); err != nil {
		return errors.New("interrupted")
	}
	if len(failures) > 0 {
		return fmt.Errorf("%d of %d photos could not be captioned, so no scores: %s", len(failures), len(set.Photos), sample(failures))
	}
	fmt.Fprintf(stderr, "captioned %d photos in %s (beam %d)\n", len(results), time.Since(start).Round(time.Millisecond), cfg.Captioner.Beam)

	names := []string{textCaption}
	if slices.ContainsFunc(results, func(r realWorldResult) bool { return r.texts[textRawCaption] != "" }) {
		names = append(names, textRawCaption)
	}
	names = append(names, textAltText, textPost)
	out := realWorldJSON{Network: n.Name, Refiner: refiner.OfflineName, Texts: names,
		Totals: map[string]realWorldTotalsJSON{}, Photos: make([]realWorldPhotoJSON, len(results))}
	totals := make(map[string]*metrics.RealWorldScores, len(names))
	for _, name := range names {
		totals[name] = &metrics.RealWorldScores{}
	}
	for i, r := range results {
		pj := realWorldPhotoJSON{File: r.photo.File, Texts: map[string]string{}, Checks: map[string]realWorldCheckJSON{}}
		for _, name := range names {
			c := r.photo.Check(r.texts[name])
			totals[name].Add(c)
			pj.Texts[name] = r.texts[name]
			pj.Checks[name] = realWorldCheckJSON{Right: c.Right(), TextCheck: c}
		}
		out.Photos[i] = pj
	}
	for _, name := range names {
		s := *totals[name]
		out.Totals[name] = realWorldTotalsJSON{RealWorldScores: s,
			RightRate: s.RightRate(), HallucinatedRate: s.HallucinatedRate(), SubjectRecall: s.SubjectRecall()}
	}
	if f.asJSON {
		b, _ := json.Marshal(out) // strings, numbers, maps with string keys: cannot fail
		fmt.Fprintf(stdout, "%s\n", b)
		return nil
	}
	printRealWorld(stdout, out)
	return nil
}

// readRealWorldSet opens and reads the --realworld manifest.
func readRealWorldSet(path string) (metrics.RealWorldSet, error) {
	mf, err := os.Open(path)
	if err != nil {
		return metrics.RealWorldSet{}, usagef("realworld: %v", err)
	}
	defer mf.Close()
	set, err := metrics.ReadRealWorld(mf)
	if err != nil {
		return set, usagef("realworld %s: %v", path, err)
	}
	return set, nil
}

// describeAll describes the photos with at most inflight in progress and
// calls emit for each, in input order.
func describeAll(ctx context.Context, d bot.Describer, dir string, photos []metrics.RealWorldPhoto, inflight int,
	emit func(i int, desc bot.Description, err error)) {
	type result struct {
		desc bot.Description
		err  error
	}
	results := make([]chan result, len(photos))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	slots := make(chan struct{}, max(inflight, 1))
	go func() {
		for i, p := range photos {
			slots <- struct{}{} // the loop below frees a slot per result
			go func() {
				if err := ctx.Err(); err != nil {
					results[i] <- result{err: err}
					return
				}
				data, err := readImageFile(filepath.Join(dir, p.File))
				if err != nil {
					results[i] <- result{err: err}
					return
				}
				desc, err := d.Describe(ctx, data)
				results[i] <- result{desc, err}
			}()
		}
	}()
	for i := range photos {
		r := <-results[i]
		<-slots
		emit(i, r.desc, r.err)
	}
}

// textLabels are the --realworld table's row names.
var textLabels = map[string]string{
	textCaption: "caption", textRawCaption: "raw caption", textAltText: "alt text", textPost: "post",
}

// printRealWorld prints each photo's texts with what they missed and
// hallucinated, then the totals.
func printRealWorld(w io.Writer, out realWorldJSON) {
	for _, p := range out.Photos {
		fmt.Fprintln(w, p.File)
		for _, name := range out.Texts {
			c := p.Checks[name]
			mark := "ok"
			if !c.Right {
				mark = "--"
			}
			text := strings.Join(strings.Fields(p.Texts[name]), " ") // the post's lines on one line
			fmt.Fprintf(w, "  %-12s %s %s\n", textLabels[name]+":", mark, text)
			var notes []string
			if len(c.Missed) > 0 {
				notes = append(notes, "missed "+strings.Join(c.Missed, ", "))
			}
			if len(c.Hallucinated) > 0 {
				notes = append(notes, "hallucinated "+strings.Join(c.Hallucinated, ", "))
			}
			if len(notes) > 0 {
				fmt.Fprintf(w, "  %-12s    (%s)\n", "", strings.Join(notes, "; "))
			}
		}
	}
	photos := out.Totals[out.Texts[0]].Photos
	fmt.Fprintf(w, "\n%d photos, posts for %s (%s refiner)\n", photos, out.Network, out.Refiner)
	fmt.Fprintf(w, "%-12s %14s %14s %20s\n", "text", "right", "hallucinated", "subject recall")
	for _, name := range out.Texts {
		t := out.Totals[name]
		fmt.Fprintf(w, "%-12s %14s %14s %20s\n", textLabels[name],
			fmt.Sprintf("%d (%.1f%%)", t.Right, t.RightRate*100),
			fmt.Sprintf("%d (%.1f%%)", t.Hallucinated, t.HallucinatedRate*100),
			fmt.Sprintf("%d/%d (%.1f%%)", t.Named, t.Subjects, t.SubjectRecall*100))
	}
}
