// Package prompts holds what captionbot knows about each social network: the
// limits table (length, how length is counted, hashtag count and placement,
// emoji use, default tone) and the LLM prompt templates, one per network.
//
// Everything is data embedded in the binary: networks.json is the table and
// templates/*.tmpl are text/template files. Rendering does no I/O.
package prompts

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Errors for bad user choices. Callers check them with errors.Is.
var (
	// ErrUnknownNetwork: the network is not in the table.
	ErrUnknownNetwork = errors.New("unknown network")
	// ErrUnknownTone: the tone is not one of Tones.
	ErrUnknownTone = errors.New("unknown tone")
	// ErrBadLanguage: the language is not an ISO 639-1 code.
	ErrBadLanguage = errors.New("language must be a two-letter ISO 639-1 code")
)

// Counting says how a network measures a post's length.
type Counting string

const (
	// CountChars counts Unicode code points.
	CountChars Counting = "chars"
	// CountWeighted counts like twitter-text v3 (see WeightedLength).
	CountWeighted Counting = "weighted"
)

// Placement says where hashtags go in a post.
type Placement string

const (
	// PlaceEnd puts hashtags on their own paragraph after the caption.
	PlaceEnd Placement = "end"
	// PlaceInline puts hashtags on the caption's last line, after a space.
	PlaceInline Placement = "inline"
	// PlaceNone means the network gets no hashtags.
	PlaceNone Placement = "none"
)

// Emoji says how much emoji a network's posts use.
type Emoji string

const (
	EmojiNone  Emoji = "none"
	EmojiLight Emoji = "light"
	EmojiRich  Emoji = "rich"
)

// Network is one row of the limits table.
type Network struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// MaxLength is the most a post may measure, counted as Counting says.
	MaxLength int      `json:"max_length"`
	Counting  Counting `json:"counting"`
	// HashtagsDefault is how many hashtags a post gets unless the user
	// chooses; HashtagsMax is the most it may get.
	HashtagsDefault  int       `json:"hashtags_default"`
	HashtagsMax      int       `json:"hashtags_max"`
	HashtagPlacement Placement `json:"hashtag_placement"`
	Emoji            Emoji     `json:"emoji"`
	DefaultTone      string    `json:"default_tone"`
	// MaxAltText is the most runes an alt text may have.
	MaxAltText int `json:"max_alt_text"`
	// Style tells the LLM what a good post for this network looks like.
	Style string `json:"style"`
}

// Length measures s the way the network does.
func (n Network) Length(s string) int {
	if n.Counting == CountWeighted {
		return WeightedLength(s)
	}
	return len([]rune(s))
}

// HashtagCount resolves a requested hashtag count: negative means the
// network's default, and the result never exceeds HashtagsMax.
func (n Network) HashtagCount(requested int) int {
	if requested < 0 {
		requested = n.HashtagsDefault
	}
	return min(requested, n.HashtagsMax)
}

//go:embed networks.json
var networksJSON []byte

type table struct {
	Version  int       `json:"version"`
	Networks []Network `json:"networks"`
}

var networks = mustLoad(networksJSON)

func mustLoad(b []byte) []Network {
	ns, err := parseTable(b)
	if err != nil {
		panic("prompts: embedded networks.json: " + err.Error())
	}
	return ns
}

// parseTable decodes and checks the limits table.
func parseTable(b []byte) ([]Network, error) {
	var t table
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, err
	}
	if t.Version != 1 {
		return nil, fmt.Errorf("version %d, want 1", t.Version)
	}
	seen := map[string]bool{}
	for _, n := range t.Networks {
		switch {
		case n.Name == "" || seen[n.Name]:
			return nil, fmt.Errorf("network %q: empty or duplicate name", n.Name)
		case n.MaxLength <= 0 || n.MaxAltText <= 0:
			return nil, fmt.Errorf("network %q: lengths must be positive", n.Name)
		case n.Counting != CountChars && n.Counting != CountWeighted:
			return nil, fmt.Errorf("network %q: counting %q", n.Name, n.Counting)
		case n.HashtagsMax < 0 || n.HashtagsDefault < 0 || n.HashtagsDefault > n.HashtagsMax:
			return nil, fmt.Errorf("network %q: hashtag default %d outside 0..%d", n.Name, n.HashtagsDefault, n.HashtagsMax)
		case n.HashtagPlacement != PlaceEnd && n.HashtagPlacement != PlaceInline && n.HashtagPlacement != PlaceNone:
			return nil, fmt.Errorf("network %q: placement %q", n.Name, n.HashtagPlacement)
		case n.HashtagPlacement == PlaceNone && n.HashtagsMax != 0:
			return nil, fmt.Errorf("network %q: placement none needs hashtags_max 0", n.Name)
		case n.Emoji != EmojiNone && n.Emoji != EmojiLight && n.Emoji != EmojiRich:
			return nil, fmt.Errorf("network %q: emoji %q", n.Name, n.Emoji)
		case !slices.Contains(Tones, n.DefaultTone):
			return nil, fmt.Errorf("network %q: default tone %q", n.Name, n.DefaultTone)
		case n.Style == "":
			return nil, fmt.Errorf("network %q: no style", n.Name)
		}
		seen[n.Name] = true
	}
	if len(t.Networks) == 0 {
		return nil, errors.New("no networks")
	}
	return t.Networks, nil
}

// networkAliases maps names people type to canonical network names.
var networkAliases = map[string]string{
	"ig":      "instagram",
	"insta":   "instagram",
	"twitter": "x",
	"fb":      "facebook",
	"wa":      "whatsapp",
	"li":      "linkedin",
	"none":    "plain",
}

// ParseNetwork returns the canonical name of a network typed by a user:
// case-insensitive, surrounding spaces and a leading '#' ignored, aliases
// resolved ("twitter" → "x"). Unknown names return an error wrapping
// ErrUnknownNetwork. It is the one parser of network names.
func ParseNetwork(s string) (string, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "#")
	if a, ok := networkAliases[n]; ok {
		n = a
	}
	for _, row := range networks {
		if row.Name == n {
			return n, nil
		}
	}
	return "", fmt.Errorf("%w %q (known: %s)", ErrUnknownNetwork, s, strings.Join(Names(), ", "))
}

// Lookup finds a network's row by name, as ParseNetwork reads it. Unknown
// names return an error wrapping ErrUnknownNetwork.
func Lookup(name string) (Network, error) {
	key, err := ParseNetwork(name)
	if err != nil {
		return Network{}, err
	}
	i := slices.IndexFunc(networks, func(n Network) bool { return n.Name == key })
	return networks[i], nil
}

// Networks returns every network in table order.
func Networks() []Network { return slices.Clone(networks) }

// Names returns every network's name in table order.
func Names() []string {
	names := make([]string, len(networks))
	for i, n := range networks {
		names[i] = n.Name
	}
	return names
}

// Tones are the tones a user may choose, with the words the prompt uses for
// each. Keeping the list closed keeps user text out of the instructions.
var Tones = []string{"fun", "professional", "minimal", "poetic", "witty", "casual", "inspirational"}

var toneWords = map[string]string{
	"fun":           "fun, upbeat and playful",
	"professional":  "professional, clear and polished",
	"minimal":       "minimal: few words, no fluff",
	"poetic":        "poetic and evocative, with gentle imagery",
	"witty":         "witty, with light clever wordplay",
	"casual":        "casual and relaxed, like talking to a friend",
	"inspirational": "inspirational and positive, without clichés",
}

// ParseTone returns a tone typed by a user, lowercased, when it is one of
// Tones; else an error wrapping ErrUnknownTone (also for an empty tone). It
// is the one parser of tones.
func ParseTone(tone string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tone))
	if !slices.Contains(Tones, t) {
		return "", fmt.Errorf("%w %q (known: %s)", ErrUnknownTone, tone, strings.Join(Tones, ", "))
	}
	return t, nil
}

// NormalizeTone returns the tone to use: the network's default for an empty
// tone, else ParseTone's.
func NormalizeTone(n Network, tone string) (string, error) {
	if strings.TrimSpace(tone) == "" {
		return n.DefaultTone, nil
	}
	return ParseTone(tone)
}

// ParseLanguage returns the lowercased ISO 639-1 code of a language typed
// by a user, or an error wrapping ErrBadLanguage (also for an empty code, and
// for two letters that are no ISO 639-1 code, such as "zz"). Region suffixes
// ("pt-BR") are cut to the language. It is the one parser of languages.
func ParseLanguage(code string) (string, error) {
	c := strings.ToLower(strings.TrimSpace(code))
	if i := strings.IndexAny(c, "-_"); i > 0 {
		c = c[:i]
	}
	if !KnownLanguage(c) {
		return "", fmt.Errorf("%w: %q", ErrBadLanguage, code)
	}
	return c, nil
}

// NormalizeLanguage returns the language to use: "en" for an empty code,
// else ParseLanguage's.
func NormalizeLanguage(code string) (string, error) {
	if strings.TrimSpace(code) == "" {
		return "en", nil
	}
	return ParseLanguage(code)
}

// LanguageName names a language for the prompt: the English name of common
// ISO 639-1 codes, else the code itself (LLMs know the codes).
func LanguageName(code string) string {
	if name, ok := languageNames[code]; ok {
		return name
	}
	return "the language with ISO 639-1 code " + code
}

var languageNames = map[string]string{
	"ar": "Arabic", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
	"de": "German", "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian",
	"fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
	"id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "ms": "Malay",
	"nl": "Dutch", "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
	"ru": "Russian", "sk": "Slovak", "sv": "Swedish", "sw": "Swahili", "ta": "Tamil",
	"th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese",
	"zh": "Chinese",
}
