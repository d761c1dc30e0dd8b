package bot

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/captionbot/captionbot/prompts"
)

// Networks are the social networks a post can be styled for, in the order
// menus show them. Package prompts' table is the one source of truth.
var Networks = prompts.Names()

// Tones are the tones users can pick (package prompts' list).
var Tones = slices.Clone(prompts.Tones)

// MaxHashtags is the most hashtags a user can ask for.
const MaxHashtags = 30

// Errors for bad setting values; the command replies explain the choices.
// The first three are package prompts' own (the one parser of networks,
// tones and languages), so errors.Is works with either name.
var (
	ErrUnknownNetwork = prompts.ErrUnknownNetwork
	ErrUnknownTone    = prompts.ErrUnknownTone
	ErrBadLanguage    = prompts.ErrBadLanguage
	ErrBadHashtags    = errors.New("bad hashtag count")
)

// ParseNetwork returns the canonical name of a network typed by a user
// (case-insensitive; "twitter" → "x"): prompts.ParseNetwork, here so that
// front ends need only package bot.
func ParseNetwork(s string) (string, error) { return prompts.ParseNetwork(s) }

// ParseTone returns a canonical tone (case-insensitive): prompts.ParseTone.
func ParseTone(s string) (string, error) { return prompts.ParseTone(s) }

// ParseLanguage accepts an ISO 639-1 code ("de", "PT", "pt-BR" → "pt"):
// prompts.ParseLanguage.
func ParseLanguage(s string) (string, error) { return prompts.ParseLanguage(s) }

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
