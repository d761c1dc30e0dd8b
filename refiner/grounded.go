package refiner

import (
	"strings"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner/ground"
)

// Hashtag thresholds for a grounded description, per source: a detected
// subject is tagged as grounding supported it (a detection of 0.6, or 0.4
// with the labels agreeing); a subject only the labels support needs
// StateLabelScore, the score from which the caption states a label; an
// ImageNet label itself ("#germanshepherd") needs BreedLabelScore and a
// tagged subject of its kind.
const (
	StateLabelScore = ground.DefaultStateScore
	BreedLabelScore = 0.3
)

// grounded reports whether the description went through grounding (package
// ground): its caption is then checked, and its subjects are what the post
// may name.
func grounded(d bot.Description) bool {
	return d.RawCaption != "" || d.Subjects != nil
}

// groundedHashtags lists the hashtags of a grounded description, best
// first: its supported subjects (a hedged caption states none), the labels
// of a tagged subject's kind, the caption's nouns, then the hint's words.
// Nothing else: no hashtag names what the post does not.
func groundedHashtags(d bot.Description, hint string) []string {
	hedged := ground.Hedged(d.Caption)
	labels := postLabels(d.Labels, BreedLabelScore)
	var out []string
	for _, s := range statedSubjects(d) {
		noun := ground.Noun(s.Name)
		for _, l := range labels {
			if thing, ok := ground.LabelThing(l.Label); ok && thing == s.Name && !strings.EqualFold(l.Name, noun) {
				out = append(out, strings.ToLower(l.Name))
			}
		}
		out = append(out, strings.ReplaceAll(noun, " ", ""))
	}
	if !hedged {
		out = append(out, contentWords(glueSubjects(fixPhrase(d.Caption), statedSubjects(d)))...)
	}
	if descriptiveHint(hint) {
		out = append(out, contentWords(hint)...)
	}
	return out
}

// glueSubjects writes the stated subjects' nouns of several words as one
// word ("a big cat" → "a bigcat"), so that the caption's words do not tag
// their parts (#cat for a jaguar, #dog for a hot dog).
func glueSubjects(caption string, stated []bot.Subject) string {
	for _, s := range stated {
		for _, form := range []string{ground.Plural(s.Name), ground.Noun(s.Name)} {
			if strings.Contains(form, " ") {
				caption = strings.ReplaceAll(caption, form, strings.ReplaceAll(form, " ", ""))
			}
		}
	}
	return caption
}

// postKind is what a grounded photo shows, for the framing line: people,
// pet, animal, food, vehicle, city, landscape or object; "photo" when
// nothing is stated.
func postKind(d bot.Description) string {
	stated := statedSubjects(d)
	if len(stated) == 0 {
		return "photo"
	}
	// The caption's subject decides: the first stated subject it names.
	main := stated[0]
	words := " " + strings.ToLower(d.Caption) + " "
	best := len(words)
	for _, s := range stated {
		n := ground.Noun(s.Name)
		for _, form := range []string{" " + n + " ", " " + n + "s ", " " + ground.Plural(s.Name) + " "} {
			if i := strings.Index(words, form); i >= 0 && i < best {
				best, main = i, s
			}
		}
	}
	if s := firstPersonWord(words); s >= 0 && s < best {
		return "people"
	}
	switch main.Kind {
	case ground.KindPerson:
		return "people"
	case ground.KindPet, ground.KindAnimal, ground.KindFood:
		return main.Kind
	case ground.KindVehicle:
		if main.Name == "bus" || main.Name == "train" {
			return "city"
		}
		return "vehicle"
	case ground.KindScene:
		switch main.Name {
		case "building", "church", "bridge", "store", "restaurant", "monument", "library":
			return "city"
		}
		return "landscape"
	}
	switch main.Name {
	case "traffic light", "stop sign", "fire hydrant", "parking meter":
		return "city"
	}
	return "object"
}

// confidentLabels are the labels a writer may name for a grounded photo:
// those scored BreedLabelScore or more.
func confidentLabels(labels []bot.Label) []bot.Label {
	var out []bot.Label
	for _, l := range labels {
		if l.Score >= BreedLabelScore {
			out = append(out, l)
		}
	}
	return out
}

// statedSubjects are the subjects a post may state: the detected ones, and
// those only the labels saw when the caption names them (the labels
// disagree with the detector and the decoder often enough that a label the
// caption left out stays out); none when the caption only hedges.
func statedSubjects(d bot.Description) []bot.Subject {
	out := []bot.Subject{}
	if ground.Hedged(d.Caption) {
		return out
	}
	words := " " + strings.Join(strings.Fields(strings.ToLower(d.Caption)), " ") + " "
	for _, s := range d.Subjects {
		named := strings.Contains(words, " "+ground.Noun(s.Name)+" ") || strings.Contains(words, " "+ground.Noun(s.Name)+"s ")
		if s.Source == "detector" || (named && s.Score >= StateLabelScore) {
			out = append(out, s)
		}
	}
	return out
}

// firstPersonWord is where the caption first names a person ("a man"
// counts), or -1.
func firstPersonWord(words string) int {
	first := -1
	for _, w := range strings.Fields(words) {
		if c, ok := ground.Thing(w); ok && c == "person" {
			first = strings.Index(words, " "+w+" ")
			break
		}
	}
	return first
}
