package refiner

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/captionbot/captionbot/bot"
)

// label is an ImageNet label as a post uses it.
type label struct {
	// Label is the encoder's class name, as it came.
	Label string
	// Name is the class's first name, renamed where it misleads: "kite"
	// becomes "bird of prey", "cock" "rooster".
	Name string
	// Kind is "dog", "bird" or "cat" for the animals the table groups,
	// else "".
	Kind  string
	Score float64
}

//go:embed imagenet.json
var imagenetJSON []byte

type imagenetTable struct {
	Version int                 `json:"version"`
	Comment string              `json:"_comment"`
	Rename  map[string]string   `json:"rename"`
	Kinds   map[string][]string `json:"kinds"`
	kindOf  map[string]string
}

var imagenet = mustImagenet(imagenetJSON)

func mustImagenet(b []byte) imagenetTable {
	var t imagenetTable
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		panic("refiner: embedded imagenet.json: " + err.Error())
	}
	if t.Version != 1 {
		panic(fmt.Sprintf("refiner: embedded imagenet.json: version %d, want 1", t.Version))
	}
	t.kindOf = map[string]string{}
	for kind, names := range t.Kinds {
		for _, n := range names {
			if t.kindOf[n] != "" {
				panic(errors.New("refiner: embedded imagenet.json: " + n + " has two kinds"))
			}
			t.kindOf[n] = kind
		}
	}
	return t
}

// postLabels turns the encoder's labels into the ones a post may use, best
// first: named as posts say them, without unsafe terms, and scored at least
// minScore.
func postLabels(labels []bot.Label, minScore float64) []label {
	var out []label
	for _, l := range labels {
		name := labelName(l.Label)
		if l.Score < minScore || name == "" || unsafeTerm(name) {
			continue
		}
		kind := imagenet.kindOf[name]
		if r, ok := imagenet.Rename[name]; ok {
			name = r
		}
		out = append(out, label{Label: labelName(l.Label), Name: name, Kind: kind, Score: l.Score})
	}
	return out
}

// ConfidentLabel is the score above which the offline refiner names the top
// label alone; below it, and when the encoder is surer of the label's kind
// (the breeds' scores together), it says "a dog, perhaps a German shepherd".
const ConfidentLabel = 0.5

// labelPhrase says what the labels show, for a photo without a caption:
// "a German shepherd", or "a dog, perhaps a German shepherd". It is "" when no
// label is good enough.
func labelPhrase(labels []bot.Label, minScore float64) string {
	all := postLabels(labels, 0)
	top := postLabels(labels, minScore)
	if len(top) == 0 {
		return ""
	}
	best := top[0]
	phrase := article(best.Name) + " " + best.Name
	if best.Kind == "" || best.Score >= ConfidentLabel || strings.Contains(strings.ToLower(best.Name), best.Kind) {
		return phrase
	}
	if kindScores(all)[best.Kind] < best.Score+minScore {
		return phrase // the other labels are not of its kind: no surer
	}
	return article(best.Kind) + " " + best.Kind + ", perhaps " + phrase
}

// kindScores sums the labels' scores by kind ("dog", "bird", "cat"): how
// sure the encoder is of the kind, whatever the breed.
func kindScores(labels []label) map[string]float64 {
	out := map[string]float64{}
	for _, l := range labels {
		if l.Kind != "" {
			out[l.Kind] += l.Score
		}
	}
	return out
}

// kindWords are the caption words that name one of the table's kinds.
var kindWords = map[string]string{
	"dog": "dog", "dogs": "dog", "puppy": "dog", "puppies": "dog",
	"bird": "bird", "birds": "bird",
	"cat": "cat", "cats": "cat", "kitten": "cat", "kittens": "cat",
}

// captionContradictsLabels reports whether the caption names an animal kind
// that the encoder's labels, taken together, are sure is another one: the
// decoder learned from Flickr8k, which has many dogs and few birds, and may
// call an eagle "a dog". The labels win then (ConfidentLabel for the other
// kind, less than minScore for the caption's).
func captionContradictsLabels(caption string, labels []bot.Label, minScore float64) bool {
	kindScore := kindScores(postLabels(labels, 0))
	for _, w := range strings.FieldsFunc(strings.ToLower(caption), func(r rune) bool { return !unicode.IsLetter(r) }) {
		named, ok := kindWords[w]
		if !ok || kindScore[named] >= minScore {
			continue
		}
		for kind, score := range kindScore {
			if kind != named && score >= ConfidentLabel {
				return true
			}
		}
	}
	return false
}

// writerLabels are the labels as a Writer gets them: renamed where the
// ImageNet name misleads, so an LLM told "kite" does not write about a toy.
func writerLabels(labels []bot.Label) []bot.Label {
	out := make([]bot.Label, len(labels))
	for i, l := range labels {
		out[i] = l
		if r, ok := imagenet.Rename[labelName(l.Label)]; ok {
			out[i].Label = r
		}
	}
	return out
}
