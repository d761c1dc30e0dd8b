package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// RealWorldSet is a development set of everyday photos annotated with what
// a caption must and may name (testdata/realworld/photos.json). Unlike
// Flickr8k references it scores no wording, only naming: does the text name
// the photo's subjects, and does it name things that are not there?
type RealWorldSet struct {
	Version int              `json:"version"`
	Photos  []RealWorldPhoto `json:"photos"`
}

// RealWorldPhoto is one photo's annotation. Words are lowercase nouns or
// noun phrases ("hot dog") written in the singular; plurals are matched
// (see Names).
type RealWorldPhoto struct {
	// File is the photo's file name, relative to the manifest's folder.
	File string `json:"file"`
	// Subjects are what a correct caption must name: each is a list of
	// acceptable words, any one of which names it ([["giraffe"], ["zebra"]]).
	Subjects [][]string `json:"subjects"`
	// Present are other things visible in the photo (or scene words that
	// fit it): naming them is neither required nor a hallucination.
	Present []string `json:"present"`
	// Absent are extra words that would be hallucinations for this photo,
	// on top of ObjectVocabulary.
	Absent []string `json:"absent,omitempty"`
	// Source says where the photo came from; Licence is its licence.
	Source  PhotoSource `json:"source"`
	Licence string      `json:"licence"`
}

// PhotoSource is the Debian package a photo was taken from.
type PhotoSource struct {
	Package string `json:"package"`
	Version string `json:"version"`
	Path    string `json:"path"`
}

// ErrBadRealWorld is returned for a manifest that is not a valid set.
var ErrBadRealWorld = errors.New("bad real-world manifest")

// ReadRealWorld reads and checks a manifest: version 1, at least one photo,
// unique file names, and every photo with at least one subject and no empty
// word lists or words.
func ReadRealWorld(r io.Reader) (RealWorldSet, error) {
	var set RealWorldSet
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&set); err != nil {
		return set, fmt.Errorf("%w: %v", ErrBadRealWorld, err)
	}
	if set.Version != 1 {
		return set, fmt.Errorf("%w: version %d, want 1", ErrBadRealWorld, set.Version)
	}
	if len(set.Photos) == 0 {
		return set, fmt.Errorf("%w: no photos", ErrBadRealWorld)
	}
	seen := map[string]bool{}
	for i, p := range set.Photos {
		switch {
		case p.File == "":
			return set, fmt.Errorf("%w: photo %d has no file", ErrBadRealWorld, i+1)
		case seen[p.File]:
			return set, fmt.Errorf("%w: %s is listed twice", ErrBadRealWorld, p.File)
		case len(p.Subjects) == 0:
			return set, fmt.Errorf("%w: %s has no subjects", ErrBadRealWorld, p.File)
		}
		seen[p.File] = true
		lists := append(slices.Clone(p.Subjects), p.Present, p.Absent)
		for j, words := range lists {
			if j < len(p.Subjects) && len(words) == 0 {
				return set, fmt.Errorf("%w: %s has an empty subject", ErrBadRealWorld, p.File)
			}
			for _, w := range words {
				if len(phraseTokens(w)) == 0 {
					return set, fmt.Errorf("%w: %s has an empty word", ErrBadRealWorld, p.File)
				}
			}
		}
	}
	return set, nil
}

// TextCheck is what one text names of one photo. Subjects are reported by
// their first word.
type TextCheck struct {
	Named  []string `json:"named"`
	Missed []string `json:"missed"`
	// Hallucinated are the words of the text (as the vocabulary or the
	// photo's absent list writes them) that name something not in the photo.
	Hallucinated []string `json:"hallucinated"`
}

// Right reports whether the text names every subject and nothing absent.
func (c TextCheck) Right() bool { return len(c.Missed) == 0 && len(c.Hallucinated) == 0 }

// Check scores text (a caption, an alt text, a post with hashtags) for p.
//
// The text is cut into Tokenize's words, so punctuation and '#' separate
// words ("#dog" names dog) and a word is matched whole ("cathedral" does not
// name cat, "hotdog" does not name dog). A word names an annotation word when
// it is that word or one of its plurals (see Names); a phrase ("hot dog")
// matches its words in a row, or written as one word ("#hotdog"). The text
// is read left to right taking the longest phrase known at each place, so
// "hot dog" is a hot dog, not a dog.
//
// Absent words are p.Absent plus every ObjectVocabulary word that no
// subject or present word of p allows (allows: the two share a form, so
// "men" allows "man").
func (p RealWorldPhoto) Check(text string) TextCheck {
	var allowed []string
	for _, s := range p.Subjects {
		allowed = append(allowed, s...)
	}
	allowed = append(allowed, p.Present...)
	var absent []string
	for _, w := range append(slices.Clone(ObjectVocabulary), p.Absent...) {
		if !slices.ContainsFunc(allowed, func(a string) bool { return sameThing(a, w) }) {
			absent = append(absent, w)
		}
	}
	known := append(slices.Clone(allowed), absent...)

	named := make([]bool, len(p.Subjects))
	c := TextCheck{Named: []string{}, Missed: []string{}, Hallucinated: []string{}}
	toks := Tokenize(text)
	for i := 0; i < len(toks); {
		n := 0
		for _, w := range known {
			n = max(n, matchAt(toks, i, w))
		}
		if n == 0 {
			i++
			continue
		}
		span := toks[i : i+n]
		i += n
		isSpan := func(w string) bool { return matchAt(span, 0, w) == n }
		subject := false
		for j, s := range p.Subjects {
			if slices.ContainsFunc(s, isSpan) {
				named[j], subject = true, true
			}
		}
		if subject || slices.ContainsFunc(p.Present, isSpan) {
			continue
		}
		if k := slices.IndexFunc(absent, isSpan); k >= 0 && !slices.Contains(c.Hallucinated, absent[k]) {
			c.Hallucinated = append(c.Hallucinated, absent[k])
		}
	}
	for j, s := range p.Subjects {
		if named[j] {
			c.Named = append(c.Named, s[0])
		} else {
			c.Missed = append(c.Missed, s[0])
		}
	}
	return c
}

// matchAt returns how many tokens from toks[i] the word or phrase w takes:
// len(words) when its words are there in a row (the last one in any of its
// forms), 1 when toks[i] is the phrase written as one word, else 0.
func matchAt(toks []string, i int, w string) int {
	words := phraseTokens(w)
	n := len(words)
	if n == 0 || i >= len(toks) {
		return 0
	}
	if i+n <= len(toks) && slices.Equal(toks[i:i+n-1], words[:n-1]) && slices.Contains(Names(words[n-1]), toks[i+n-1]) {
		return n
	}
	if n > 1 {
		joined := strings.Join(words[:n-1], "")
		if rest, ok := strings.CutPrefix(toks[i], joined); ok && slices.Contains(Names(words[n-1]), rest) {
			return 1
		}
	}
	return 0
}

// sameThing reports whether words a and b share a form ("man" and "men").
func sameThing(a, b string) bool {
	ta, tb := phraseTokens(a), phraseTokens(b)
	if len(ta) != len(tb) || !slices.Equal(ta[:len(ta)-1], tb[:len(tb)-1]) {
		return false
	}
	fb := Names(tb[len(tb)-1])
	return slices.ContainsFunc(Names(ta[len(ta)-1]), func(f string) bool { return slices.Contains(fb, f) })
}

// phraseTokens cuts an annotation word the way texts are cut.
func phraseTokens(w string) []string { return Tokenize(w) }

// irregularPlurals are the plurals the suffix rules do not make.
var irregularPlurals = map[string]string{
	"person": "people", "child": "children", "foot": "feet", "tooth": "teeth",
	"mouse": "mice", "goose": "geese", "ox": "oxen", "die": "dice",
}

// Names returns a singular noun and its plural forms, which is what a text
// may write to name it: "dog" -> dog, dogs; "man" -> man, mans, men;
// "child" -> child, childs, children; "puppy" -> puppy, puppies; "leaf" ->
// leaf, leafs, leaves; "bus" -> bus, buses; "tomato" -> tomato, tomatos,
// tomatoes. A few forms are not English ("mans"); they cost nothing, as no
// text of the set writes them for another thing. Nouns whose plural is the
// singular (sheep, fish, aircraft) need no rule.
func Names(w string) []string {
	forms := []string{w}
	add := func(f string) {
		if f != "" && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	switch {
	case strings.HasSuffix(w, "s") || strings.HasSuffix(w, "x") || strings.HasSuffix(w, "z") ||
		strings.HasSuffix(w, "ch") || strings.HasSuffix(w, "sh"):
		add(w + "es")
	case len(w) > 1 && strings.HasSuffix(w, "y") && !strings.ContainsRune("aeiou", rune(w[len(w)-2])):
		add(w[:len(w)-1] + "ies")
	default:
		add(w + "s")
	}
	switch {
	case strings.HasSuffix(w, "man"):
		add(w[:len(w)-3] + "men")
	case strings.HasSuffix(w, "fe"):
		add(w[:len(w)-2] + "ves")
	case strings.HasSuffix(w, "f"):
		add(w[:len(w)-1] + "ves")
	case strings.HasSuffix(w, "o"):
		add(w + "es")
	}
	if p, ok := irregularPlurals[w]; ok {
		add(p)
	}
	return forms
}

// RealWorldScores add up one kind of text's checks over a set.
type RealWorldScores struct {
	Photos int `json:"photos"`
	// Right counts the photos whose text names every subject and nothing
	// absent; Hallucinated those whose text names something absent.
	Right        int `json:"right"`
	Hallucinated int `json:"hallucinated"`
	// Subjects counts the subjects of all photos, Named those the texts
	// named.
	Subjects int `json:"subjects"`
	Named    int `json:"named"`
}

// Add counts one photo's check.
func (s *RealWorldScores) Add(c TextCheck) {
	s.Photos++
	if c.Right() {
		s.Right++
	}
	if len(c.Hallucinated) > 0 {
		s.Hallucinated++
	}
	s.Subjects += len(c.Named) + len(c.Missed)
	s.Named += len(c.Named)
}

// RightRate, HallucinatedRate and SubjectRecall are shares in [0, 1]; 0 for
// an empty set.
func (s RealWorldScores) RightRate() float64        { return share(s.Right, s.Photos) }
func (s RealWorldScores) HallucinatedRate() float64 { return share(s.Hallucinated, s.Photos) }
func (s RealWorldScores) SubjectRecall() float64    { return share(s.Named, s.Subjects) }

func share(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
