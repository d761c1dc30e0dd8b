package bot

import (
	"strings"
	"unicode/utf16"
)

// Measure is how a platform counts one rune of a message toward its length
// limit: RuneUnits (Discord), UTF16Units (Telegram).
type Measure func(r rune) int

// RuneUnits counts every rune as one (Discord counts characters).
func RuneUnits(rune) int { return 1 }

// UTF16Units counts a rune's UTF-16 code units (Telegram): two for emoji and
// others outside the Basic Multilingual Plane.
func UTF16Units(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1 // not a valid rune: sent as U+FFFD
}

// Length is s's length as measure counts it.
func Length(s string, measure Measure) int {
	n := 0
	for _, r := range s {
		n += measure(r)
	}
	return n
}

// SplitText cuts text into parts of at most limit units as measure counts
// them, at a paragraph, line or word break when one falls in the second
// half of a part, else mid-word (never inside a rune). Parts are trimmed of
// surrounding space; nothing but space at the cuts is lost. Blank text has
// no parts. limit must be at least the largest unit measure gives a rune
// (2 for UTF16Units).
func SplitText(text string, limit int, measure Measure) []string {
	text = strings.TrimSpace(text)
	var parts []string
	for Length(text, measure) > limit {
		// end: the byte index of the longest prefix within limit.
		end, n := 0, 0
		for i, r := range text {
			if n+measure(r) > limit {
				end = i
				break
			}
			n += measure(r)
		}
		if end == 0 { // limit smaller than one rune: take the rune anyway
			end = len(string([]rune(text)[:1]))
		}
		head := text[:end]
		cut := end
		for _, sep := range []string{"\n\n", "\n", " "} {
			if i := strings.LastIndex(head, sep); i > 0 && 2*Length(head[:i], measure) >= limit {
				cut = i
				break
			}
		}
		parts = append(parts, strings.TrimSpace(text[:cut]))
		text = strings.TrimSpace(text[cut:])
	}
	if text != "" {
		parts = append(parts, text)
	}
	return parts
}

// Truncate shortens s to at most limit units as measure counts them, ending
// it with "…" when it was cut: for short replies that should never need
// splitting.
func Truncate(s string, limit int, measure Measure) string {
	if Length(s, measure) <= limit {
		return s
	}
	n := measure('…')
	for i, r := range s {
		if n+measure(r) > limit {
			return s[:i] + "…"
		}
		n += measure(r)
	}
	return s
}
