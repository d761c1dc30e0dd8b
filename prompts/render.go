package prompts

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"text/template"
	"unicode"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

var templates = template.Must(template.New("prompts").Funcs(template.FuncMap{
	"quote": quote,
	"add":   func(a, b int) int { return a + b },
}).ParseFS(templateFS, "templates/*.tmpl"))

// MaxHintRunes is how much of a user's hint reaches the prompt.
const MaxHintRunes = 300

// Input is what a prompt is rendered from.
type Input struct {
	// Caption is the captioner's sentence, grounded: every thing it names
	// was seen.
	Caption string
	// Objects are the things the captioner saw, most prominent first, with
	// how many the object detector counted (0: not counted).
	Objects []Object
	// Labels are ImageNet class names, best first.
	Labels []string
	// Tone is one of Tones; empty means the network's default.
	Tone string
	// Language is an ISO 639-1 code; empty means "en".
	Language string
	// Hashtags is the number wanted; negative means the network's default.
	Hashtags int
	// Hint is the user's free text. It is cleaned, cut to MaxHintRunes and
	// quoted as data.
	Hint string
	// Variant > 0 asks for another wording.
	Variant int
}

// Object is a thing the captioner saw in the photo.
type Object struct {
	Name  string
	Count int
}

// Prompt is a rendered chat prompt.
type Prompt struct {
	System string
	User   string
}

// templateData is what the templates see.
type templateData struct {
	Network      Network
	Caption      string
	Objects      []Object
	Labels       []string
	ToneWords    string
	LanguageName string
	Hashtags     int
	Hint         string
	Variant      int
}

// Render renders the system and user messages for network n. Bad tones and
// languages return errors wrapping ErrUnknownTone and ErrBadLanguage.
func Render(n Network, in Input) (Prompt, error) {
	tone, err := NormalizeTone(n, in.Tone)
	if err != nil {
		return Prompt{}, err
	}
	lang, err := NormalizeLanguage(in.Language)
	if err != nil {
		return Prompt{}, err
	}
	d := templateData{
		Network:      n,
		Caption:      CleanText(in.Caption, 500),
		ToneWords:    toneWords[tone],
		LanguageName: LanguageName(lang),
		Hashtags:     n.HashtagCount(in.Hashtags),
		Hint:         CleanText(in.Hint, MaxHintRunes),
		Variant:      max(in.Variant, 0),
	}
	for _, l := range in.Labels {
		if l = CleanText(l, 100); l != "" {
			d.Labels = append(d.Labels, l)
		}
	}
	for _, o := range in.Objects {
		if o.Name = CleanText(o.Name, 100); o.Name != "" {
			d.Objects = append(d.Objects, o)
		}
	}
	var p Prompt
	if p.System, err = execute("system.tmpl", d); err != nil {
		return Prompt{}, err
	}
	if p.User, err = execute(n.Name+".tmpl", d); err != nil {
		return Prompt{}, err
	}
	return p, nil
}

func execute(name string, d templateData) (string, error) {
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, d); err != nil {
		return "", fmt.Errorf("render %s: %w", name, err)
	}
	return strings.TrimSpace(b.String()) + "\n", nil
}

// quote writes s as a JSON string literal, so quotes, newlines and control
// characters in user text cannot end the quoted data early.
func quote(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return `""`
	}
	return strings.TrimSpace(b.String())
}

// CleanText makes free text safe to show or embed: control and format
// characters (bidi overrides, zero-width marks except the emoji joiner) are
// dropped, runs of white space become one space, and the result is cut to
// maxRunes runes.
func CleanText(s string, maxRunes int) string {
	var b strings.Builder
	space := false
	n := 0
	for _, r := range s {
		if n >= maxRunes {
			break
		}
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case r == '\u200D' || r == '\uFE0F' || (r >= 0xE0020 && r <= 0xE007F):
			// Emoji joiner, presentation selector and flag tags stay.
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar:
			continue
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
			if n >= maxRunes {
				break
			}
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
