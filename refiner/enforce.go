package refiner

import (
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/prompts"
)

// Ellipsis marks a cut. On X it weighs 2.
const Ellipsis = "…"

// Enforce makes a draft post obey network n, whatever wrote it: the caption
// is cleaned (control characters dropped, blank lines collapsed, emoji
// removed where the network uses none), hashtags trailing the caption move to
// the hashtag list, hashtags are normalised, deduplicated and capped at
// hashtags (already resolved with Network.HashtagCount) together with the
// ones inside the caption, which lose their '#' past the cap, the alt text is
// cleaned and cut to the network's limit, and the assembled text is cut at a
// word boundary with "…" to fit the network's length. Fields outside the
// schema are not copied. Network is set; Refiner is kept.
func Enforce(n prompts.Network, p bot.Post, hashtags int) bot.Post {
	caption := cleanMultiline(p.Body)
	caption, trailing := splitTrailingHashtags(caption)
	if n.Emoji == prompts.EmojiNone {
		caption = prompts.StripEmoji(caption)
	}
	hashtags = max(hashtags, 0)
	if n.HashtagPlacement == prompts.PlaceNone {
		hashtags = 0
	}
	caption, inline := capInlineHashtags(caption, hashtags)
	// Hashtags inside the caption count towards the network's limit (Instagram
	// counts every hashtag in a post); the list gets what they leave.
	all := append(append(append([]string{}, inline...), p.Hashtags...), trailing...)
	tags := normalizeHashtags(all, hashtags)[len(inline):]

	alt := prompts.StripEmoji(prompts.CleanText(p.AltText, 4*n.MaxAltText))
	alt = strings.Join(strings.FieldsFunc(alt, func(r rune) bool { return r == '#' }), "")
	alt = cutToFit(alt, n.MaxAltText, func(s string) int { return utf8.RuneCountInString(s) })

	out := bot.Post{Network: n.Name, WrittenBy: p.WrittenBy, AltText: alt}
	out.Text, out.Body, out.Hashtags = fit(n, caption, tags)
	return out
}

// assemble puts hashtags where the network wants them.
func assemble(n prompts.Network, caption string, tags []string) string {
	if len(tags) == 0 || n.HashtagPlacement == prompts.PlaceNone {
		return caption
	}
	joined := strings.Join(tags, " ")
	switch {
	case caption == "":
		return joined
	case n.HashtagPlacement == prompts.PlaceInline:
		return caption + " " + joined
	default:
		return caption + "\n\n" + joined
	}
}

// fit cuts the caption, and drops hashtags from the end when they would leave
// the caption too little room, until the assembled post fits n.MaxLength.
func fit(n prompts.Network, caption string, tags []string) (text, cut string, kept []string) {
	if n.HashtagPlacement == prompts.PlaceNone || tags == nil {
		tags = []string{}
	}
	minCaption := min(60, n.MaxLength/2)
	for {
		text = assemble(n, caption, tags)
		if n.Length(text) <= n.MaxLength {
			return text, caption, tags
		}
		room := n.MaxLength - n.Length(assemble(n, "x", tags)) + 1
		if room < minCaption && len(tags) > 0 {
			tags = tags[:len(tags)-1]
			continue
		}
		// Weighted lengths are almost additive: shrink by the overshoot until
		// the whole fits.
		room = max(room, 0)
		for {
			c := cutToFit(caption, room, n.Length)
			text = assemble(n, c, tags)
			over := n.Length(text) - n.MaxLength
			if over <= 0 || room == 0 {
				return text, c, tags
			}
			room = max(room-over, 0)
		}
	}
}

// cutToFit returns s when length(s) ≤ limit, else the longest prefix ending
// at a word boundary that fits with "…" appended. A first word too long to
// fit is cut between characters, never inside an emoji sequence.
func cutToFit(s string, limit int, length func(string) int) string {
	if length(s) <= limit {
		return s
	}
	if limit < length(Ellipsis) {
		return ""
	}
	withEllipsis := func(prefix string) string {
		prefix = strings.TrimRightFunc(prefix, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{", r)
		})
		if prefix == "" {
			return ""
		}
		return prefix + Ellipsis
	}
	// Word boundaries: the byte offsets of white space.
	var cuts []int
	for i, r := range s {
		if unicode.IsSpace(r) {
			cuts = append(cuts, i)
		}
	}
	// Prefixes of whole words only grow, so the fitting ones come first.
	k := sort.Search(len(cuts), func(i int) bool {
		c := withEllipsis(s[:cuts[i]])
		return c != "" && length(c) > limit
	})
	for i := k - 1; i >= 0; i-- {
		if c := withEllipsis(s[:cuts[i]]); c != "" && length(c) <= limit {
			return c
		}
	}
	// No word fits: cut between characters, again by binary search.
	var ends []int
	for i, r := range s {
		ends = append(ends, i+utf8.RuneLen(r))
	}
	k = sort.Search(len(ends), func(i int) bool { return length(s[:ends[i]]+Ellipsis) > limit })
	end := 0
	if k > 0 {
		end = ends[k-1]
	}
	for end > 0 {
		next, _ := utf8.DecodeRuneInString(s[end:])
		prev, size := utf8.DecodeLastRuneInString(s[:end])
		if !joinsEmoji(next) && prev != '\u200D' {
			break
		}
		end -= size
	}
	return withEllipsis(s[:end])
}

// joinsEmoji reports whether r continues the emoji before it.
func joinsEmoji(r rune) bool {
	return r == '\u200D' || r == '\uFE0F' || r == '\u20E3' ||
		(r >= 0x1F3FB && r <= 0x1F3FF) || (r >= 0xE0020 && r <= 0xE007F) ||
		unicode.Is(unicode.Mn, r)
}

// cleanMultiline cleans each line like prompts.CleanText and keeps at most
// one blank line between paragraphs.
func cleanMultiline(s string) string {
	var lines []string
	blank := false
	for line := range strings.Lines(strings.ReplaceAll(s, "\r\n", "\n")) {
		line = prompts.CleanText(line, len(line))
		if line == "" {
			blank = len(lines) > 0
			continue
		}
		if blank {
			lines = append(lines, "")
			blank = false
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

var trailingHashtags = regexp.MustCompile(`(?:\s*#[^\s#]+)+\s*$`)

// splitTrailingHashtags moves hashtags that end a caption ("Sunny walk!
// #dog #spring") out of it; hashtags inside a sentence stay, and so does an
// ending that is no hashtag ("We're #1").
func splitTrailingHashtags(caption string) (string, []string) {
	loc := trailingHashtags.FindStringIndex(caption)
	if loc == nil {
		return caption, nil
	}
	run, before := caption[loc[0]:], strings.TrimSpace(caption[:loc[0]])
	tags := strings.Fields(strings.ReplaceAll(run, "#", " #"))
	for _, t := range tags {
		if _, ok := NormalizeHashtag(t); !ok {
			return caption, nil
		}
	}
	// One hashtag that ends a sentence ("a walk on the #beach.") is a word
	// of it, unless it stands on its own line or after the sentence's end.
	last, _ := utf8.DecodeLastRuneInString(before)
	if len(tags) == 1 && before != "" && !strings.ContainsRune(run[:strings.IndexByte(run, '#')], '\n') &&
		(unicode.IsLetter(last) || unicode.IsDigit(last) || last == ',') {
		return caption, nil
	}
	return before, tags
}

var inlineHashtag = regexp.MustCompile(`(^|[\s(])#([\p{L}\p{M}\p{N}_]+)`)

// capInlineHashtags keeps the first max distinct hashtags inside a caption
// and turns later ones into plain words ("#beach" → "beach"). It returns
// the caption and the hashtags kept, normalised.
func capInlineHashtags(caption string, max int) (string, []string) {
	var kept []string
	seen := map[string]bool{}
	caption = inlineHashtag.ReplaceAllStringFunc(caption, func(m string) string {
		sub := inlineHashtag.FindStringSubmatch(m)
		norm, ok := NormalizeHashtag(sub[2])
		key := hashtagKey(norm)
		switch {
		case !ok:
			return m // "#1": no hashtag, nothing to count
		case seen[key]:
			return m
		case len(kept) < max:
			seen[key] = true
			kept = append(kept, norm)
			return m
		}
		return sub[1] + sub[2]
	})
	return caption, kept
}
