package refiner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/captionbot/captionbot/bot"
)

// ErrUnsafe: a post failed the safety check. The refiner then sends the
// offline post instead.
var ErrUnsafe = errors.New("unsafe post")

// CheckSafety checks everything a post says — caption, hashtags, alt text —
// against three embedded lists: banned terms (hate, sexual content,
// self-harm), refusal and prompt-injection phrases (the model refused, or
// echoed an "ignore previous instructions" hint), and claims about people
// (age, ethnicity, religion, health...) that the source — the caption, labels
// and hint the post was written from — does not already make. Matching is by
// whole words, so "therapist" is not "rapist". The error wraps ErrUnsafe and
// names the rule, never the text.
func CheckSafety(p bot.Post, source string) error {
	text := phraseText(p.Body + " " + p.AltText + " " + strings.Join(p.Hashtags, " "))
	for _, term := range bannedTerms {
		if hasPhrase(text, term) {
			return fmt.Errorf("%w: banned term", ErrUnsafe)
		}
	}
	for _, tag := range p.Hashtags {
		if unsafeTerm(tag) {
			return fmt.Errorf("%w: banned hashtag", ErrUnsafe)
		}
	}
	if echoesInstructions(text) {
		return fmt.Errorf("%w: refusal or instructions echoed", ErrUnsafe)
	}
	// Claims match singular and plural alike ("5 years old", "a 5-year-old").
	singular, src := singulars(text), singulars(phraseText(source))
	for _, term := range sensitiveTerms {
		term = singulars(phraseText(term))
		if strings.Contains(singular, term) && !strings.Contains(src, term) {
			return fmt.Errorf("%w: claim about people not in the photo's description", ErrUnsafe)
		}
	}
	return nil
}

// echoesInstructions reports whether text holds a refusal or
// prompt-injection phrase from words/refusals.txt.
func echoesInstructions(text string) bool {
	text = phraseText(text)
	for _, phrase := range refusalPhrases {
		if hasPhrase(text, phrase) {
			return true
		}
	}
	return false
}

// unsafeTerm reports whether a single word, label or hashtag is a banned
// term; glued forms count ("#whitepower").
func unsafeTerm(s string) bool {
	glued := glue(s)
	for _, term := range bannedTerms {
		if glued == glue(term) {
			return true
		}
	}
	return false
}

func glue(s string) string { return strings.Join(words(s), "") }

// phraseText lower-cases text into its words separated by single spaces, with
// a space at each end, so phrases match as whole words.
func phraseText(s string) string {
	s = strings.NewReplacer("’", "'", "‘", "'", "-", " ").Replace(s)
	return " " + strings.Join(words(s), " ") + " "
}

func hasPhrase(text, phrase string) bool {
	return strings.Contains(text, phraseText(phrase))
}

// singulars drops a plural "s" from each word of a phraseText.
func singulars(text string) string {
	ws := strings.Fields(text)
	for i, w := range ws {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			ws[i] = w[:len(w)-1]
		}
	}
	return " " + strings.Join(ws, " ") + " "
}
