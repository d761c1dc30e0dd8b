package bot

import (
	"errors"
	"fmt"
	"github.com/captionbot/captionbot/prompts"
	"slices"
	"strconv"
	"strings"
)

// Networks are the social networks a post can be styled for, in the order
// menus show them. Package prompts' table is the one source of truth.
var Networks = prompts.Names()

// Tones are the tones users can pick (package prompts' list).
var Tones = slices.Clone(prompts.Tones)

// MaxHashtags is the most hashtags a user can ask for.
const MaxHashtags = 30

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

// Errors for bad setting values; the command replies explain the choices.
var (
	ErrUnknownNetwork = errors.New("unknown network")
	ErrUnknownTone    = errors.New("unknown tone")
	ErrBadLanguage    = errors.New("bad language code")
	ErrBadHashtags    = errors.New("bad hashtag count")
)

// ParseNetwork returns the canonical name of a network typed by a user
// (case-insensitive; "twitter" → "x").
func ParseNetwork(s string) (string, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.TrimPrefix(n, "#")
	if a, ok := networkAliases[n]; ok {
		n = a
	}
	if !slices.Contains(Networks, n) {
		return "", fmt.Errorf("%w: %q", ErrUnknownNetwork, s)
	}
	return n, nil
}

// ParseTone returns a canonical tone (case-insensitive).
func ParseTone(s string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if !slices.Contains(Tones, t) {
		return "", fmt.Errorf("%w: %q", ErrUnknownTone, s)
	}
	return t, nil
}

// ParseLanguage accepts an ISO 639-1 code ("de", "PT", "pt-BR" → "pt"); it
// is package prompts' NormalizeLanguage, without its default for "".
func ParseLanguage(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", fmt.Errorf("%w: %q", ErrBadLanguage, s)
	}
	l, err := prompts.NormalizeLanguage(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q", ErrBadLanguage, s)
	}
	return l, nil
}

// ParseHashtags accepts a count from 0 to MaxHashtags.
func ParseHashtags(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > MaxHashtags {
		return 0, fmt.Errorf("%w: %q (want 0 to %d)", ErrBadHashtags, s, MaxHashtags)
	}
	return n, nil
}

// ValidateSettings reports the first set field that holds a bad value.
func ValidateSettings(s Settings) error {
	if s.Network != "" {
		if n, err := ParseNetwork(s.Network); err != nil || n != s.Network {
			return fmt.Errorf("%w: %q", ErrUnknownNetwork, s.Network)
		}
	}
	if s.Tone != "" {
		if _, err := ParseTone(s.Tone); err != nil {
			return err
		}
	}
	if s.Language != "" {
		if l, err := ParseLanguage(s.Language); err != nil || l != s.Language {
			return fmt.Errorf("%w: %q", ErrBadLanguage, s.Language)
		}
	}
	if s.Hashtags != nil && (*s.Hashtags < 0 || *s.Hashtags > MaxHashtags) {
		return fmt.Errorf("%w: %d", ErrBadHashtags, *s.Hashtags)
	}
	return nil
}
