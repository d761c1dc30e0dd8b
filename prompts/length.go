package prompts

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// WeightedLength measures s as X (Twitter) does, following twitter-text v3's
// configuration (config/v3.json: scale 100, defaultWeight 200,
// transformedURLLength 23, emojiParsingEnabled):
//
//   - code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and
//     U+2032–U+2037 weigh 1 (Latin, Greek, Cyrillic, Arabic, Hebrew, Indic,
//     Thai, Georgian... and common punctuation);
//   - every other code point weighs 2 (CJK, Hangul, kana, and also "…");
//   - an emoji sequence weighs 2 however many code points it has (skin tones,
//     ZWJ families, flags, keycaps, tag sequences);
//   - a URL weighs 23 whatever its length.
//
// We write it ourselves because no maintained Go port of twitter-text exists.
// Differences we accept: URLs are recognised only with an http(s):// or www.
// prefix (twitter-text also finds bare domains), the text is not NFC-normalised
// first, and emoji are recognised by Unicode block rather than the full emoji
// list, so a few rare symbols may weigh 2 instead of 1 — erring long is safe.
func WeightedLength(s string) int {
	total := 0
	for {
		loc := urlPattern.FindStringIndex(s)
		if loc == nil {
			return total + weightedRunes(s)
		}
		end := loc[1]
		// A URL does not end in sentence punctuation.
		for end > loc[0] && strings.ContainsRune(".,;:!?)'\"", rune(s[end-1])) {
			end--
		}
		total += weightedRunes(s[:loc[0]]) + urlWeight
		s = s[end:]
	}
}

const urlWeight = 23

var urlPattern = regexp.MustCompile(`(?i)\b(?:https?://|www\.)[^\s]+`)

// weightedRunes weighs text that holds no URL.
func weightedRunes(s string) int {
	total := 0
	for len(s) > 0 {
		if n := emojiSequenceLen(s); n > 0 {
			total += 2
			s = s[n:]
			continue
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if lightRune(r) {
			total++
		} else {
			total += 2
		}
	}
	return total
}

// lightRune reports whether twitter-text v3 weighs r as 1.
func lightRune(r rune) bool {
	return r <= 0x10FF ||
		(r >= 0x2000 && r <= 0x200D) ||
		(r >= 0x2010 && r <= 0x201F) ||
		(r >= 0x2032 && r <= 0x2037)
}

const (
	zwj         = '\u200D'
	vs16        = '\uFE0F'
	keycap      = '\u20E3'
	riFirst     = 0x1F1E6 // regional indicator A
	riLast      = 0x1F1FF
	skinFirst   = 0x1F3FB
	skinLast    = 0x1F3FF
	tagFirst    = 0xE0020
	tagLast     = 0xE007F
	maxEmojiSeq = 16 // code points; longer runs count as several emoji
)

// emojiSequenceLen returns how many bytes of s form one emoji sequence at its
// start, or 0 when s does not start with an emoji.
func emojiSequenceLen(s string) int {
	r, n := utf8.DecodeRuneInString(s)
	next, nn := utf8.DecodeRuneInString(s[n:])
	switch {
	case r >= riFirst && r <= riLast:
		// A flag is a pair of regional indicators; a lone one is one emoji.
		if next >= riFirst && next <= riLast {
			return n + nn
		}
		return n
	case pictographic(r):
	case nn > 0 && (next == vs16 || next == keycap):
		// A text symbol made emoji: "❤️", "#️⃣", "1️⃣".
	default:
		return 0
	}
	i, count := n, 1
	for i < len(s) && count < maxEmojiSeq {
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == vs16 || c == keycap || (c >= skinFirst && c <= skinLast) || (c >= tagFirst && c <= tagLast):
			i += size
		case c == zwj:
			after, asize := utf8.DecodeRuneInString(s[i+size:])
			if asize == 0 || !pictographic(after) {
				return i
			}
			i += size + asize
		default:
			return i
		}
		count++
	}
	return i
}

// pictographic reports whether r is in a block made of emoji pictographs.
func pictographic(r rune) bool {
	return (r >= 0x1F000 && r <= 0x1FAFF) || // mahjong … symbols & pictographs ext-A
		(r >= 0x2600 && r <= 0x27BF) || // misc symbols, dingbats
		(r >= 0x2B00 && r <= 0x2BFF && (r == 0x2B50 || r == 0x2B55 || r == 0x2B1B || r == 0x2B1C)) ||
		r == 0x231A || r == 0x231B || r == 0x23F0 || r == 0x23F3
}

// StripEmoji removes emoji sequences from s (for networks whose posts use
// none) and tidies the spaces they leave.
func StripEmoji(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		if n := emojiSequenceLen(s); n > 0 {
			s = s[n:]
			continue
		}
		_, size := utf8.DecodeRuneInString(s)
		b.WriteString(s[:size])
		s = s[size:]
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = spaceBeforePunct.Replace(strings.Join(strings.Fields(l), " "))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

var spaceBeforePunct = strings.NewReplacer(" !", "!", " ?", "?", " .", ".", " ,", ",", " ;", ";", " :", ":")
