package refiner

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/captionbot/captionbot/bot"
)

// MaxHashtagRunes is the longest hashtag kept, '#' excluded. Longer ones are
// unreadable and usually a sentence glued together.
const MaxHashtagRunes = 25

// NormalizeHashtag returns tag in its canonical form: one '#', then only
// letters, digits, marks and '_' (spaces, hyphens, apostrophes and dots
// removed, so "#golden retriever" becomes "#goldenretriever"). Case is kept,
// so CamelCase stays readable. ok is false for a tag that is empty, all
// digits, or longer than MaxHashtagRunes.
func NormalizeHashtag(tag string) (norm string, ok bool) {
	var b strings.Builder
	b.WriteByte('#')
	n, letters := 0, 0
	for _, r := range strings.TrimLeft(strings.TrimSpace(tag), "#＃") {
		switch {
		case unicode.IsLetter(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r):
			letters++
		case unicode.IsDigit(r) || r == '_':
		default:
			continue
		}
		b.WriteRune(r)
		n++
	}
	if letters == 0 || n > MaxHashtagRunes {
		return "", false
	}
	return b.String(), true
}

// normalizeHashtags normalises tags, drops bad ones and duplicates (ignoring
// case and a plural "s": "#dog" and "#Dogs" are one) and keeps at most max.
func normalizeHashtags(tags []string, max int) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		if len(out) >= max {
			break
		}
		norm, ok := NormalizeHashtag(t)
		key := hashtagKey(norm)
		if !ok || seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, norm)
	}
	return out
}

// hashtagKey is what two hashtags share when they are the same tag: case
// and a plural "s" ignored.
func hashtagKey(norm string) string {
	key := strings.ToLower(norm)
	if utf8.RuneCountInString(key) > 4 && strings.HasSuffix(key, "s") && !strings.HasSuffix(key, "ss") {
		key = key[:len(key)-1]
	}
	return key
}

// labelName is the first name of an ImageNet label: "German shepherd,
// German shepherd dog" → "German shepherd".
func labelName(label string) string {
	name, _, _ := strings.Cut(label, ",")
	return strings.TrimSpace(name)
}

// words splits text into lower-case words of letters, digits and inner
// apostrophes or hyphens.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	})
}

// contentWords returns the words of text that can stand as hashtags: not a
// stop word, not an -ing, -ed or -ly form (but "spring" and "butterfly"
// are nouns: words/nouns.txt), not a third-person verb right after a
// noun ("a dog chases a ball" keeps dog and ball), not a number, and not
// banned.
func contentWords(text string) []string {
	var out []string
	prevContent := false
	for _, w := range words(text) {
		w = strings.Trim(w, "'-")
		n := utf8.RuneCountInString(w)
		switch {
		case n < 3 || stopWords[w] || isNumber(w) || unsafeTerm(w):
			prevContent = false
			continue
		case n > 4 && !formNouns[w] && (strings.HasSuffix(w, "ing") || strings.HasSuffix(w, "ly") || strings.HasSuffix(w, "ed")):
			prevContent = false
			continue
		case prevContent && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
			prevContent = false // most likely a verb: "dog runs"
			continue
		}
		out = append(out, w)
		prevContent = true
	}
	return out
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// hashtagCandidates lists the offline hashtags for a description, best first:
// the top label and, for a photo without a caption, its kind
// ("#germanshepherd #dog"), the nouns of the
// cleaned caption, the other labels, then the hint's words. Labels scored
// below minScore are left out (the encoder is unsure of them), and so are
// labels of the top one's kind: another breed is a rival guess, not more of
// the photo.
func hashtagCandidates(d bot.Description, hint string, minScore float64) []string {
	labels := postLabels(d.Labels, minScore)
	var out, rest []string
	if len(labels) > 0 {
		top := labels[0]
		out = append(out, strings.ToLower(top.Name))
		if top.Kind != "" && strings.TrimSpace(d.Caption) == "" {
			// A caption names the animal itself, or disagrees with the
			// encoder: then "#dog" would repeat it or contradict it.
			out = append(out, top.Kind)
		}
		for _, l := range labels[1:] {
			if top.Kind == "" || l.Kind != top.Kind {
				rest = append(rest, strings.ToLower(l.Name))
			}
		}
	}
	out = append(out, contentWords(fixPhrase(d.Caption))...)
	out = append(out, rest...)
	if descriptiveHint(hint) {
		// A hint that tries to instruct gives no hashtags (#ignore
		// #rules); one that says what the photo is about does.
		out = append(out, contentWords(hint)...)
	}
	return out
}
