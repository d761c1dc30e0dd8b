package refiner

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// OfflineName is Post.WrittenBy for posts the offline refiner wrote.
const OfflineName = "offline"

// DefaultMinLabelScore is the lowest encoder score a label needs to become a
// hashtag offline.
const DefaultMinLabelScore = 0.1

// Offline is the template-based refiner that needs no network: it fixes the
// caption's grammar, frames it for the network and tone, derives hashtags
// from the caption's nouns, the ImageNet labels and the user's hint, and
// writes a plain alt text. The same request always gives the same post;
// another Variant gives another framing.
//
// Its phrases are English: for another language it still writes English (the
// LLM refiner is the one that writes other languages).
type Offline struct {
	// MinLabelScore is the lowest label score used for hashtags; zero means
	// DefaultMinLabelScore.
	MinLabelScore float64
}

var _ bot.Refiner = (*Offline)(nil)

// Refine writes the offline post for req. It fails only for an unknown
// network, tone or language (errors wrapping the prompts sentinels).
func (o *Offline) Refine(_ context.Context, req bot.RefineRequest) (bot.Post, error) {
	n, req, err := resolve(req)
	if err != nil {
		return bot.Post{}, err
	}
	return o.write(n, req), nil
}

// resolve checks a request and normalises it: the network's name, the tone
// (the network's default when empty), the language code, the resolved
// hashtag count and a non-negative variant. Errors wrap the prompts sentinels.
func resolve(req bot.RefineRequest) (prompts.Network, bot.RefineRequest, error) {
	n, err := prompts.Lookup(req.Network)
	if err != nil {
		return n, req, err
	}
	tone, err := prompts.NormalizeTone(n, req.Tone)
	if err != nil {
		return n, req, err
	}
	lang, err := prompts.NormalizeLanguage(req.Language)
	if err != nil {
		return n, req, err
	}
	req.Network, req.Tone, req.Language = n.Name, tone, lang
	req.Hashtags = n.HashtagCount(req.Hashtags)
	req.Variant = max(req.Variant, 0)
	return n, req, nil
}

// write builds the post for a request resolve has checked.
func (o *Offline) write(n prompts.Network, req bot.RefineRequest) bot.Post {
	tone := req.Tone
	minScore := o.MinLabelScore
	if minScore == 0 {
		minScore = DefaultMinLabelScore
	}
	d := req.Description
	isGrounded := grounded(d)
	if !isGrounded && captionContradictsLabels(d.Caption, d.Labels, minScore) {
		d.Caption = "" // the labels speak instead, hedged
	}
	phrase := fixPhrase(d.Caption)
	sentenceText := sentence(phrase)
	alt := sentenceText
	switch lp := labelPhrase(d.Labels, minScore); {
	case phrase != "":
	case !isGrounded && lp != "":
		// No decoder: the labels speak, hedged.
		phrase = "what looks like " + lp
		sentenceText = sentence("this looks like " + lp)
		alt = sentence("a photo that may show " + lp)
	default:
		phrase = "a photo"
		sentenceText, alt = sentence(phrase), sentence(phrase)
	}

	fr := framings.Tones[tone]
	if n.HashtagPlacement == prompts.PlaceNone && n.Emoji == prompts.EmojiNone {
		// The plain network is the cleaned caption; its variants only
		// rephrase, whatever the tone.
		fr = framings.Plain
	}
	kind := "photo"
	if isGrounded {
		kind = postKind(d)
	}
	caption := fr.render(req.Variant, frameData{Sentence: sentenceText, Phrase: phrase,
		Line: framings.line(kind, req.Variant)})
	if e := o.emoji(n, tone, req.Variant, phrase); e != "" {
		caption += " " + e
	}

	var candidates []string
	if isGrounded {
		candidates = groundedHashtags(d, req.Hint)
	} else {
		candidates = hashtagCandidates(d, req.Hint, minScore)
	}
	candidates = append(candidates, framings.Tones[tone].Fillers...)
	post := bot.Post{
		Body:      caption,
		Hashtags:  candidates,
		AltText:   alt,
		WrittenBy: OfflineName,
	}
	return Enforce(n, post, req.Hashtags)
}

// emoji picks the emoji a post ends with: none where the network or the tone
// wants none, else the subject's emoji, and on rich networks a tone emoji too.
func (o *Offline) emoji(n prompts.Network, tone string, variant int, text string) string {
	fr := framings.Tones[tone]
	if n.Emoji == prompts.EmojiNone || len(fr.Emoji) == 0 {
		return ""
	}
	var out []string
	for _, w := range words(text) {
		if e, ok := framings.SubjectEmoji[w]; ok {
			out = append(out, e)
			break
		}
	}
	if len(out) == 0 || n.Emoji == prompts.EmojiRich {
		out = append(out, fr.Emoji[variant%len(fr.Emoji)])
	}
	return strings.Join(out, "")
}

// framing is one tone's phrases, from framing.json.
type framing struct {
	Patterns []string `json:"patterns"`
	Emoji    []string `json:"emoji"`
	Fillers  []string `json:"fillers"`
	compiled []*template.Template
}

type frameData struct {
	Sentence string
	Phrase   string
	// Line is a line that fits what the photo shows (framing.json's kinds).
	Line string
}

func (f *framing) render(variant int, d frameData) string {
	t := f.compiled[max(variant, 0)%len(f.compiled)]
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		// The templates are checked when loaded; this cannot happen with
		// string fields, but a post is better than nothing.
		return d.Sentence
	}
	return b.String()
}

//go:embed framing.json
var framingJSON []byte

type framingTable struct {
	Version      int                 `json:"version"`
	Comment      string              `json:"_comment"`
	Tones        map[string]*framing `json:"tones"`
	Plain        *framing            `json:"plain"`
	Kinds        map[string][]string `json:"kinds"`
	SubjectEmoji map[string]string   `json:"subject_emoji"`
}

// postKinds are the kinds framing.json must have lines for.
var postKinds = []string{"people", "pet", "animal", "food", "vehicle", "city", "landscape", "object", "photo"}

// line is kind's framing line for a variant: Regenerate walks through them,
// shifted by one each round, so a variant that comes back to a tone's
// first pattern gets another line.
func (t framingTable) line(kind string, variant int) string {
	lines := t.Kinds[kind]
	if len(lines) == 0 {
		lines = t.Kinds["photo"]
	}
	v := max(variant, 0)
	return lines[(v+v/len(lines))%len(lines)]
}

var framings = mustFramings(framingJSON)

func mustFramings(b []byte) framingTable {
	t, err := parseFramings(b)
	if err != nil {
		panic("refiner: embedded framing.json: " + err.Error())
	}
	return t
}

// parseFramings decodes framing.json and checks that every tone prompts
// knows has patterns that render.
func parseFramings(b []byte) (framingTable, error) {
	var t framingTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, err
	}
	if err := t.Plain.compile("plain"); err != nil {
		return t, err
	}
	for _, k := range postKinds {
		if len(t.Kinds[k]) == 0 {
			return t, fmt.Errorf("kind %s has no lines", k)
		}
	}
	for _, tone := range prompts.Tones {
		if err := t.Tones[tone].compile(tone); err != nil {
			return t, err
		}
	}
	return t, nil
}

// compile parses and tries the patterns.
func (f *framing) compile(name string) error {
	if f == nil || len(f.Patterns) == 0 {
		return fmt.Errorf("%s has no patterns", name)
	}
	for i, p := range f.Patterns {
		tmpl, err := template.New(fmt.Sprintf("%s/%d", name, i)).Parse(p)
		if err != nil {
			return err
		}
		if err := tmpl.Execute(io.Discard, frameData{"S.", "s", "L."}); err != nil {
			return err
		}
		f.compiled = append(f.compiled, tmpl)
	}
	return nil
}
