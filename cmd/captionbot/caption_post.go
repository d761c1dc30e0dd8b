package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// postOptions are the caption command's flags for writing posts
// (--network and friends), and the refiner they open.
type postOptions struct {
	network, tone, lang, hint string
	hashtags                  int

	refiner   bot.Refiner
	sendImage bool
}

// addPostFlags defines --network, --tone, --lang, --hashtags and --hint.
func addPostFlags(fl *flag.FlagSet) *postOptions {
	o := &postOptions{}
	fl.StringVar(&o.network, "network", "", "write a post for network `NAME`: "+strings.Join(prompts.Names(), ", "))
	fl.StringVar(&o.tone, "tone", "", "the post's `TONE`: "+strings.Join(prompts.Tones, ", ")+" (default: the network's)")
	fl.StringVar(&o.lang, "lang", "", "the post's language, an ISO 639-1 `CODE` (default en; the offline refiner writes English)")
	fl.IntVar(&o.hashtags, "hashtags", -1, "number of hashtags `N` (default: the network's)")
	fl.StringVar(&o.hint, "hint", "", "what the post is about, in your words (`TEXT`)")
	return o
}

// check validates the flags before any photo is read.
func (o *postOptions) check() error {
	if o.network == "" {
		if o.tone != "" || o.lang != "" || o.hint != "" || o.hashtags >= 0 {
			return errors.New("--tone, --lang, --hashtags and --hint need --network")
		}
		return nil
	}
	n, err := prompts.Lookup(o.network)
	if err != nil {
		return err
	}
	if _, err := prompts.NormalizeTone(n, o.tone); err != nil {
		return err
	}
	if _, err := prompts.NormalizeLanguage(o.lang); err != nil {
		return err
	}
	if o.hashtags > n.HashtagsMax {
		return fmt.Errorf("--hashtags %d: %s allows at most %d", o.hashtags, n.Name, n.HashtagsMax)
	}
	return nil
}

// open opens the [refiner] when --network asks for posts. Its log, on
// stderr, shows only warnings (such as the LLM failing over to offline).
func (o *postOptions) open(cfg *config, stderr io.Writer) error {
	if o.network == "" {
		return nil
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	r, err := openRefiner(cfg, log)
	if err != nil {
		return err
	}
	o.refiner, o.sendImage = r, cfg.Refiner.SendImage
	return nil
}

// PostFields are what --network adds to a photo's result (and its --json
// line).
type PostFields struct {
	Post     string   `json:"post"`
	Hashtags []string `json:"hashtags"`
	AltText  string   `json:"alt_text"`
	Network  string   `json:"network"`
	Refiner  string   `json:"refiner"`
}

// refine writes the post for a captioned photo; without --network it does
// nothing.
func (o *postOptions) refine(ctx context.Context, line *captionLine) error {
	if o.refiner == nil {
		return nil
	}
	var img []byte
	if o.sendImage {
		// Re-read only for vision models; a failure just sends no image.
		img, _ = readImageFile(line.Image)
	}
	p, err := o.refiner.Refine(ctx, bot.RefineRequest{
		Description: line.desc,
		Network:     o.network,
		Tone:        o.tone,
		Language:    o.lang,
		Hashtags:    o.hashtags,
		Hint:        o.hint,
		Image:       img,
	})
	if err != nil {
		return err
	}
	line.PostFields = &PostFields{Post: p.Text, Hashtags: p.Hashtags, AltText: p.AltText, Network: p.Network, Refiner: p.WrittenBy}
	return nil
}

// printPostText prints a photo's post, indented under its path.
func printPostText(w io.Writer, l captionLine) {
	fmt.Fprintf(w, "%s (%s, %s)\n", l.Image, l.Network, l.Refiner)
	for line := range strings.Lines(l.Post) {
		if line = strings.TrimRight(line, "\n"); line == "" {
			fmt.Fprintln(w)
		} else {
			fmt.Fprintf(w, "  %s\n", line)
		}
	}
	fmt.Fprintf(w, "  alt text: %s\n", l.AltText)
}
