// Package ground checks a decoder's caption against what the photo is known
// to show — the object detector's boxes, the encoder's ImageNet labels and
// the word detectors' probabilities — and rewrites it so that it names
// nothing without support. It runs no model: it is plain functions over the
// captioner's outputs, so its rules are tested without ONNX Runtime.
package ground

import (
	"math"
	"slices"
	"strings"

	"github.com/captionbot/captionbot/bot"
)

// Options are the grounding thresholds; zero values mean the defaults,
// chosen on the Flickr8k dev split and the real-world set (models/README.md).
type Options struct {
	// ObjectScore is the detection score that supports its class alone;
	// AgreeScore the one that does when the labels agree (AgreeLabel).
	ObjectScore float64
	AgreeScore  float64
	// CountScore is the score from which detections are counted.
	CountScore float64
	// MentionScore is the score from which a detected couch, bed, chair,
	// bench, table or bowl places the subject ("a cat on a couch").
	MentionScore float64
	// LabelScore is the summed ImageNet score that supports a thing.
	LabelScore float64
	// StateScore is the label score from which a label alone is stated;
	// below it, down to HedgeScore, it is hedged ("what may be a teapot").
	StateScore float64
	HedgeScore float64
	// SceneryScore is the word detector's probability from which a place is
	// hedged for a photo in which nothing else was seen ("a photo of what
	// may be a street").
	SceneryScore float64
	// WordScore is the word detector's probability that supports a word the
	// object detector cannot see ("grass", "stick"); ThumbnailWordScore the
	// one in a thumbnail (see SmallPhoto), the word detectors' own domain.
	WordScore          float64
	ThumbnailWordScore float64
	// ConceptScore is the word detector's probability for a COCO class
	// ("=person") that supports the class in a small photo, where the object
	// detector misses most things (see SmallPhoto).
	ConceptScore float64
	// SmallPhoto is the longer side, in pixels, under which a photo is a
	// thumbnail like Flickr8k's (224×224): the detector, which works at 416,
	// misses most things there, so its silence is no evidence and the
	// Flickr8k-trained decoder and word detectors are trusted more.
	SmallPhoto int
}

// Defaults.
const (
	DefaultObjectScore  = 0.6
	DefaultAgreeScore   = 0.4
	DefaultCountScore   = 0.5
	DefaultMentionScore = 0.5
	DefaultLabelScore   = 0.3
	DefaultStateScore   = 0.5
	DefaultHedgeScore   = 0.4
	DefaultSceneryScore = 0.25
	DefaultWordScore    = 0.2
	DefaultThumbWords   = 0.03
	DefaultConceptScore = 0.2
	DefaultSmallPhoto   = 256
)

func (o *Options) setDefaults() {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.ObjectScore, DefaultObjectScore)
	def(&o.AgreeScore, DefaultAgreeScore)
	def(&o.CountScore, DefaultCountScore)
	def(&o.MentionScore, DefaultMentionScore)
	def(&o.LabelScore, DefaultLabelScore)
	def(&o.StateScore, DefaultStateScore)
	def(&o.HedgeScore, DefaultHedgeScore)
	def(&o.SceneryScore, DefaultSceneryScore)
	def(&o.WordScore, DefaultWordScore)
	def(&o.ThumbnailWordScore, DefaultThumbWords)
	def(&o.ConceptScore, DefaultConceptScore)
	if o.SmallPhoto == 0 {
		o.SmallPhoto = DefaultSmallPhoto
	}
}

// Evidence is what the models saw in one photo.
type Evidence struct {
	Objects []bot.Object
	Labels  []bot.Label
	// Words are the word detectors' probabilities by singular word, and by
	// "=class" for COCO classes; nil when the model folder has none.
	Words map[string]float64
	// Width and Height are the photo's size (0: unknown), for box areas.
	Width, Height int
}

// Result is a grounded caption.
type Result struct {
	// Caption is lowercase, without final punctuation, like the decoder's.
	Caption string
	// Subjects are the supported things, most prominent first.
	Subjects []bot.Subject
	// Rewritten is true when the decoder's subject had no support and the
	// sentence was written from the evidence instead.
	Rewritten bool
}

// support is what the evidence says about the photo, digested.
type support struct {
	opt      Options
	detScore map[string]float64 // best believed detection score per COCO class
	count    map[string]int     // believed detections at CountScore or more
	area     map[string]float64 // largest believed box's share of the photo
	label    map[string]float64 // summed label score per thing
	words    map[string]float64
	objects  []bot.Object // believed detections
	labels   []bot.Label
	small    bool // the detector's silence says little
	named    map[string]bool
	// crowd is the number of person boxes at CrowdScore or more when there
	// are at least three: several unsure people corroborate each other.
	crowd int
	// animals is the labels' summed score over all animals.
	animals float64
}

// CrowdScore is the detection score from which three or more person boxes
// together support "people" (a band on a dim stage: many boxes near 0.5).
const CrowdScore = 0.45

// imagenetKnows holds the COCO classes that some ImageNet class shows: for
// them the labels' silence is evidence; for the others (giraffe, person)
// it is not, and a label next to them may be them misread.
var imagenetKnows = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range imagenetThing {
		m[t] = true
	}
	return m
}()

func newSupport(ev Evidence, opt Options) *support {
	s := &support{opt: opt, detScore: map[string]float64{}, count: map[string]int{},
		area: map[string]float64{}, label: map[string]float64{}, words: ev.Words,
		labels: ev.Labels, named: map[string]bool{}}
	s.small = ev.Width > 0 && ev.Height > 0 && max(ev.Width, ev.Height) < opt.SmallPhoto
	photo := float64(ev.Width) * float64(ev.Height)
	for _, l := range ev.Labels {
		if t, ok := imagenetThing[l.Label]; ok {
			s.label[t] += l.Score
			if living(t) && t != "person" {
				s.animals += l.Score
			}
		}
	}
	s.objects = s.believed(ev.Objects, photo)
	people := 0
	for _, o := range s.objects {
		if o.Label == "person" && o.Score >= CrowdScore {
			people++
		}
	}
	if people >= 3 {
		s.crowd = people
	}
	for _, o := range s.objects {
		s.detScore[o.Label] = max(s.detScore[o.Label], o.Score)
		if o.Score >= opt.CountScore || (o.Label == "person" && s.crowd > 0 && o.Score >= CrowdScore) {
			s.count[o.Label]++
		}
		if photo > 0 {
			s.area[o.Label] = max(s.area[o.Label], float64(o.Box[2])*float64(o.Box[3])/photo)
		}
	}
	return s
}

func living(c string) bool {
	k := thingKind(c)
	return k == KindPet || k == KindAnimal || k == KindPerson
}

// sureLabel is the thing of the kind that the labels are sure (0.6) the
// photo shows, or "". Label scores are probabilities summed by thing, so at
// most one thing reaches 0.6.
func (s *support) sureLabel(kind func(thing string) bool) string {
	for thing, v := range s.label {
		if v >= 0.6 && kind(thing) {
			return thing
		}
	}
	return ""
}

// certainLabel is the thing the labels are all but certain (0.9) of, or "".
func (s *support) certainLabel() string {
	for thing, v := range s.label {
		if v >= 0.9 {
			return thing
		}
	}
	return ""
}

// believed drops the detections that another explanation beats. The
// detector confuses animals (a bird is also a dog at 0.37, a horse also a
// cow) and sees people in fur: of two animals of different classes on
// nearly the same box only the surer one counts, and a person or animal it
// is unsure of does not count where the ImageNet labels are sure (0.6) the
// photo shows another animal, give this class nothing, and the detector
// puts that animal on the same box (or is under 0.5 itself).
func (s *support) believed(objs []bot.Object, photo float64) []bot.Object {
	labelAnimal := s.sureLabel(func(thing string) bool { return living(thing) && thing != "person" })
	labelVehicle := s.sureLabel(func(thing string) bool { return thingKind(thing) == KindVehicle })
	certain := s.certainLabel()
	large := func(o bot.Object, share float64) bool {
		return photo > 0 && float64(o.Box[2])*float64(o.Box[3]) >= share*photo
	}
	var out []bot.Object
	for i, o := range objs {
		if a := s.herd(objs, i); a != "" {
			o.Label = a
		}
		if !living(o.Label) {
			// The detector also confuses vehicles (an old open car is a
			// truck to it): a large vehicle box under 0.8 whose class the
			// labels give nothing, where they are sure of another vehicle,
			// is that vehicle.
			if labelVehicle != "" && o.Label != labelVehicle && thingKind(o.Label) == KindVehicle &&
				o.Score < 0.8 && s.label[o.Label] < 0.05 && large(o, 0.25) {
				o.Label = labelVehicle
			}
			// Where the labels are all but certain of another thing and give
			// this class nothing, an unsure box filling a quarter of the
			// photo is that thing misread ("broccoli" on a green chameleon,
			// "cake" on a baseball).
			if certain != "" && certain != o.Label && s.label[o.Label] < 0.05 && o.Score < 0.7 && large(o, 0.25) {
				continue
			}
			out = append(out, o)
			continue
		}
		explained := false
		for j, p := range objs {
			// The labels' animal is not explained away by a class they
			// give nothing (a German shepherd is also a horse at 0.72).
			if o.Label == labelAnimal && s.label[p.Label] < 0.05 {
				continue
			}
			if i != j && p.Label != o.Label && living(p.Label) && p.Score > o.Score && iou(o.Box, p.Box) >= 0.6 {
				explained = true
				break
			}
		}
		if o.Score < 0.8 && labelAnimal != "" && labelAnimal != o.Label && s.label[o.Label] < 0.05 {
			onSameBox := false
			for _, p := range objs {
				if p.Label == labelAnimal && iou(o.Box, p.Box) >= 0.5 {
					onSameBox = true
				}
			}
			_, coco := cocoByName[labelAnimal]
			switch {
			case onSameBox || o.Score < 0.5:
				explained = true
			case !coco && o.Label != "person" && imagenetKnows[o.Label] && s.label[labelAnimal] >= 0.8,
				!coco && o.Label == "person" && s.label[labelAnimal] >= 0.9 && large(o, 0.25):
				// The detector has no class for the animal the labels are
				// sure of (0.8) and gives it the nearest it has (a bison is
				// a cow to it, a gorilla a bear, a proboscis monkey a person).
				o.Label = labelAnimal
			}
		}
		if !explained {
			out = append(out, o)
		}
	}
	// Relabelled boxes may now repeat one another.
	var kept []bot.Object
	for i, o := range out {
		dup := false
		for j, p := range out {
			if j != i && p.Label == o.Label && iou(o.Box, p.Box) >= 0.6 && (p.Score > o.Score || p.Score == o.Score && j < i) {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, o)
		}
	}
	return kept
}

// herd returns the class an unsure animal box (under ObjectScore) is
// better read as, or "": the detector also gives its box to another animal
// class (IoU 0.6), and that class has a box of its own elsewhere in the
// photo at ObjectScore or more, and the labels do not support the box's own
// class (under LabelScore). Animals in one photo are mostly of one kind, and
// between 0.3 and 0.55 the detector swaps horses and cows, dogs
// and cows, birds and kites (a horse in a herd of horses was a cow at 0.55
// and a horse at 0.35).
func (s *support) herd(objs []bot.Object, i int) string {
	o := objs[i]
	if o.Score >= s.opt.ObjectScore || !living(o.Label) || o.Label == "person" || s.label[o.Label] >= s.opt.LabelScore {
		return ""
	}
	for j, p := range objs {
		if j == i || p.Label == o.Label || p.Label == "person" || !living(p.Label) || iou(o.Box, p.Box) < 0.6 {
			continue
		}
		for k, q := range objs {
			if k != i && k != j && q.Label == p.Label && q.Score >= s.opt.ObjectScore && iou(o.Box, q.Box) < 0.6 {
				return p.Label
			}
		}
	}
	return ""
}

// iou is the intersection over union of two boxes.
func iou(a, b [4]int) float64 {
	x0, y0 := max(a[0], b[0]), max(a[1], b[1])
	x1, y1 := min(a[0]+a[2], b[0]+b[2]), min(a[1]+a[3], b[1]+b[3])
	if x1 <= x0 || y1 <= y0 {
		return 0
	}
	in := float64((x1 - x0) * (y1 - y0))
	return in / (float64(a[2]*a[3]+b[2]*b[3]) - in)
}

// class reports whether a COCO class is supported: by a detection, by the
// labels, or — in a small photo, where the detector misses most things —
// by the word detectors, unless something the caption does not name is
// surely there instead.
func (s *support) class(c string) bool {
	if s.detected(c) {
		return true
	}
	if s.label[c] >= s.opt.LabelScore {
		return !s.misreadAnimal(c)
	}
	if !s.small || s.contradicted(c) {
		return false
	}
	if s.words["="+c] >= s.opt.ConceptScore {
		return true
	}
	if living(c) {
		return false
	}
	for _, w := range classWords[c] {
		if s.words[w] >= s.opt.ConceptScore {
			return true
		}
	}
	return false
}

// AnimalStateScore is the summed label score from which an animal that only
// the labels support is named (other label-only things: StateScore).
const AnimalStateScore = 0.7

// AgreeLabel is the summed label score of a class from which the labels
// agree with a detection under ObjectScore. It was 0.1: one weak breed
// guess (a kelpie at 0.13) then kept a dog box of 0.47 beside three horses.
const AgreeLabel = 0.2

// detected reports whether the detector supports c: alone, with the
// labels agreeing, (people) as a crowd, or, for a class ImageNet has no
// class for (so its labels cannot agree), with the decoder naming it in a
// full-size photo (a surfboard at 0.55 that the caption rides). People are
// left out: the decoder names a person in most photos, and on the
// development manifests it made 6 more captions name an absent person.
func (s *support) detected(c string) bool {
	d := s.detScore[c]
	return d >= s.opt.ObjectScore || (d >= s.opt.AgreeScore && s.label[c] >= AgreeLabel) || (c == "person" && s.crowd > 0) ||
		(d >= s.opt.AgreeScore && s.named[c] && !imagenetKnows[c] && !s.small)
}

// anAnimal reports whether the photo surely shows some animal, whatever its
// kind: the labels' animals together are sure (0.7), or they reach
// StateScore and an animal box (0.5) agrees.
func (s *support) anAnimal() bool {
	return s.animals >= 0.7 || s.animals >= s.opt.StateScore && s.animalBox(0.5)
}

// animalBox reports whether a believed box of an animal reaches score.
func (s *support) animalBox(score float64) bool {
	for _, o := range s.objects {
		if o.Label != "person" && living(o.Label) && o.Score >= score {
			return true
		}
	}
	return false
}

// misreadAnimal reports whether an animal only the labels support is more
// likely another animal the detector boxed: one whose class the labels
// support at least as much (three cows, and labels "ox" 0.42, "Great Dane"
// 0.29), or one ImageNet has no class for, which it then misnames (the
// spots of two giraffes are a "cheetah" to it).
func (s *support) misreadAnimal(thing string) bool {
	if !living(thing) || thing == "person" || s.detected(thing) {
		return false
	}
	for c := range s.detScore {
		if c != thing && c != "person" && living(c) && s.detected(c) && (s.label[thing] <= s.label[c] || !imagenetKnows[c]) {
			return true
		}
	}
	return false
}

// contradicted reports whether the photo surely shows a living thing or a
// food the caption does not name, while nothing saw c. It is asked only of
// thumbnails.
func (s *support) contradicted(c string) bool {
	if s.detScore[c] >= 0.2 || s.label[c] >= 0.1 {
		return false
	}
	// In a thumbnail the detector's own guesses are weak too: only one the
	// labels agree with counts.
	for _, o := range s.objects {
		if o.Score >= 0.6 && s.label[o.Label] >= 0.1 && !s.named[o.Label] &&
			(living(o.Label) || thingKind(o.Label) == KindFood) {
			return true
		}
	}
	for thing, v := range s.label {
		k := thingKind(thing)
		if v >= 0.6 && !s.named[thing] && (k == KindPet || k == KindAnimal || k == KindFood || fixture[thing]) {
			return true
		}
	}
	return false
}

// fixture are the appliances a photo is of when the labels are sure of one:
// nobody holds them, so a photo ImageNet calls a microwave is of a kitchen,
// not of the people the Flickr8k-trained word detectors expect.
var fixture = map[string]bool{
	"microwave": true, "oven": true, "refrigerator": true, "toaster": true, "sink": true,
	"toilet": true, "dishwasher": true,
}

// classWords are the word-detector words that can stand for a class.
var classWords = map[string][]string{
	"sports ball": {"ball", "soccer", "football", "basketball", "tennis", "volleyball"},
	"frisbee":     {"frisbee"}, "bicycle": {"bike", "bicycle"}, "skateboard": {"skateboard"},
	"surfboard": {"surfboard"}, "boat": {"boat"}, "car": {"car"}, "bench": {"bench"},
	"kite": {"kite"}, "umbrella": {"umbrella"}, "backpack": {"backpack"}, "motorcycle": {"motorcycle"},
	"dining table": {"table"}, "chair": {"chair"}, "couch": {"couch"},
}

// impliedBy lists, for a place word, the classes whose detection implies it.
var impliedBy = map[string][]string{
	"water":   {"boat", "surfboard"},
	"wave":    {"surfboard"},
	"snow":    {"skis", "snowboard"},
	"street":  {"car", "bus", "truck", "traffic light", "stop sign", "fire hydrant", "parking meter"},
	"road":    {"car", "bus", "truck"},
	"city":    {"bus", "traffic light", "stop sign"},
	"table":   {"dining table"},
	"plate":   {"pizza", "sandwich", "broccoli", "carrot", "hot dog", "cake", "donut"},
	"food":    {"pizza", "sandwich", "broccoli", "carrot", "hot dog", "cake", "donut", "banana", "apple", "orange"},
	"kitchen": {"oven", "refrigerator", "microwave", "sink"},
	"room":    {"couch", "bed", "tv", "chair"},
	"field":   {"cow", "sheep", "horse", "zebra", "giraffe"},
	"grass":   {"cow", "sheep", "zebra", "giraffe"},
}

// labelPlaces maps a coarse ImageNet thing to the place words it supports.
var labelPlaces = map[string][]string{
	"beach": {"beach", "sand", "water", "ocean", "sea", "shore", "wave"},
	"coast": {"water", "ocean", "sea", "rock", "cliff", "shore"},
	"lake":  {"water", "lake", "river", "pond", "shore"}, "mountain": {"mountain", "hill", "rock", "snow"},
	"valley": {"mountain", "hill", "field", "grass", "tree"}, "cliff": {"cliff", "rock", "mountain"},
	"reef": {"water", "ocean", "sea"}, "bridge": {"bridge", "water", "river"},
	"fountain": {"fountain", "water"}, "stage": {"stage"}, "restaurant": {"restaurant", "table"},
	"store": {"store", "market"}, "building": {"building", "city", "street"}, "church": {"building"},
	"dock": {"water", "dock"}, "pier": {"water"}, "patio": {"patio"}, "hay": {"hay", "field"},
	"fence": {"fence"}, "wall": {"wall"},
}

// place reports whether a word the detector cannot see is supported.
func (s *support) place(w string) bool {
	ws := s.opt.WordScore
	if s.small {
		ws = s.opt.ThumbnailWordScore
	}
	if s.words[w] >= ws {
		return true
	}
	for _, c := range impliedBy[w] {
		if s.detScore[c] >= s.opt.ObjectScore {
			return true
		}
	}
	for thing, score := range s.label {
		if score >= s.opt.LabelScore && slices.Contains(labelPlaces[thing], w) {
			return true
		}
	}
	return false
}

// Ground checks raw against the evidence and returns the grounded caption.
func Ground(raw string, ev Evidence, opt Options) Result {
	opt.setDefaults()
	s := newSupport(ev, opt)
	toks := tokenize(raw)
	ms := mentions(toks)
	for _, m := range ms {
		s.named[m.class] = true
	}
	res := Result{Subjects: s.subjects()}
	if len(ms) > 0 && ms[0].start <= 3 && s.class(ms[0].class) {
		if out, ok := s.prune(toks, ms); ok {
			res.Caption = out + s.alsoSeen()
			if !hasPlace(tokenize(res.Caption)) {
				res.Caption += s.sceneSuffix()
			}
			return res
		}
	}
	res.Caption = s.write()
	res.Rewritten = true
	return res
}

// subjects lists the supported things, most prominent first: believed
// detections (prominence: score plus half the square root of the largest
// box's share of the photo) and labels (prominence: their summed score
// plus 0.25, since a label speaks for the whole photo).
func (s *support) subjects() []bot.Subject {
	type ranked struct {
		bot.Subject
		prom float64
	}
	var all []ranked
	for c, score := range s.detScore {
		if !s.detected(c) {
			continue
		}
		all = append(all, ranked{bot.Subject{Name: c, Count: max(s.count[c], 1), Kind: thingKind(c),
			Score: round2(score), Source: "detector"}, score + 0.5*math.Sqrt(s.area[c])})
	}
	for thing, score := range s.label {
		if score < s.opt.LabelScore || s.detected(thing) || s.misreadAnimal(thing) {
			continue
		}
		all = append(all, ranked{bot.Subject{Name: thing, Kind: thingKind(thing), Score: round2(score),
			Source: "label"}, score + 0.25})
	}
	slices.SortFunc(all, func(a, b ranked) int {
		if a.prom != b.prom {
			if a.prom > b.prom {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	out := make([]bot.Subject, len(all))
	for i, r := range all {
		out[i] = r.Subject
	}
	return out
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// noun is a thing's noun for n of it: "a giraffe", "two giraffes",
// "a group of people".
func noun(thing string, n int) string {
	one, many := Noun(thing), Plural(thing)
	switch {
	case n <= 1:
		return article(one) + " " + one
	case n <= 4:
		return numberWords[n] + " " + many
	case thing == "person":
		return "a group of people"
	default:
		return "several " + many
	}
}

// sameInPlural are the non-COCO things whose plural is the singular.
var sameInPlural = map[string]bool{"food": true, "hay": true, "fish": true, "bison": true, "buffalo": true,
	"jellyfish": true}

var numberWords = []string{"no", "one", "two", "three", "four", "five", "six"}

// article is "a" or "an" for the word that follows.
func article(next string) string {
	if next != "" && strings.ContainsRune("aeiou", rune(next[0])) && !strings.HasPrefix(next, "uni") &&
		!strings.HasPrefix(next, "use") {
		return "an"
	}
	return "a"
}

// write is the sentence written from the evidence alone, for a caption
// whose subject has no support: the most prominent things with counts, a
// relation or place where something supports it, or a hedge.
func (s *support) write() string {
	var things []bot.Subject
	for _, b := range s.subjects() {
		if b.Kind == KindScene {
			continue
		}
		if b.Source == "label" && b.Score < s.opt.StateScore {
			continue
		}
		things = append(things, b)
		if len(things) == 3 {
			break
		}
	}
	if len(things) == 0 {
		if p := s.landscape(); p != "" {
			return p
		}
		// Animals the labels cannot tell apart: the kind is in doubt, the
		// animal is not.
		if s.anAnimal() {
			return "an animal"
		}
		if h := s.hedge(); h != "a photo" {
			return h
		}
		return s.scenery()
	}
	main := things[0]
	if s.kindInDoubt(main) {
		return "an animal"
	}
	// ImageNet's animals are fine-grained and its unsure guesses name the
	// wrong one (an ibex was "bighorn" 0.54, a sheep; a rhinoceros "warthog"
	// 0.69, a pig): an animal only the labels support is named from
	// AnimalStateScore; under it the photo shows "an animal" where anAnimal
	// says so, else nothing.
	if main.Source == "label" && (main.Kind == KindPet || main.Kind == KindAnimal) && main.Score < AnimalStateScore {
		if s.anAnimal() {
			return "an animal"
		}
		return "a photo"
	}
	// Food with a plate or a table: "a plate with broccoli and a carrot".
	if main.Kind == KindFood {
		var foods []string
		for _, t := range things {
			if t.Kind == KindFood {
				foods = append(foods, foodNoun(t))
			}
		}
		switch {
		case s.label["plate"] >= s.opt.LabelScore:
			return "a plate with " + joinAnd(foods)
		case s.detScore["dining table"] >= s.opt.MentionScore || s.detScore["bowl"] >= s.opt.MentionScore:
			return joinAnd(foods) + " on a table"
		}
		return joinAnd(foods)
	}
	rel, on := s.relation(main)
	var parts []string
	for _, t := range things {
		if t.Name == on || (t.Name == "dining table" && main.Kind != KindObject) {
			continue
		}
		parts = append(parts, noun(t.Name, t.Count))
	}
	out := joinAnd(parts)
	if rel != "" {
		out += " " + rel
	} else if p := s.placePhrase(placed(things)); p != "" {
		out += " " + p
	}
	return out
}

// placed is the thing a rewritten sentence's place phrase is about: the
// first that is not an object ("a kite and two people on the beach": the
// people are on the beach), else the first.
func placed(things []bot.Subject) bot.Subject {
	for _, t := range things {
		if t.Kind != KindObject {
			return t
		}
	}
	return things[0]
}

func foodNoun(t bot.Subject) string {
	if t.Name == "broccoli" || t.Name == "food" {
		return t.Name
	}
	return noun(t.Name, t.Count)
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// relation places a person or an animal on the furniture it overlaps:
// the phrase and the furniture's class.
func (s *support) relation(main bot.Subject) (phrase, class string) {
	if main.Kind != KindPerson && main.Kind != KindPet && main.Kind != KindAnimal {
		return "", ""
	}
	var subj *bot.Object
	for i, o := range s.objects {
		if o.Label == main.Name {
			subj = &s.objects[i]
			break
		}
	}
	if subj == nil {
		return "", ""
	}
	for _, o := range s.objects {
		switch o.Label {
		case "couch", "bed", "chair", "bench":
		default:
			continue
		}
		if o.Score >= s.opt.MentionScore && overlap(subj.Box, o.Box) > 0.3 {
			return "on " + noun(o.Label, 1), o.Label
		}
	}
	return "", ""
}

// overlap is the intersection's share of box a.
func overlap(a, b [4]int) float64 {
	x0, y0 := max(a[0], b[0]), max(a[1], b[1])
	x1, y1 := min(a[0]+a[2], b[0]+b[2]), min(a[1]+a[3], b[1]+b[3])
	if x1 <= x0 || y1 <= y0 || a[2]*a[3] == 0 {
		return 0
	}
	return float64((x1-x0)*(y1-y0)) / float64(a[2]*a[3])
}

// placePhrases are the places a rewritten sentence may add, best first,
// with the words that must all be supported.
var placePhrases = []struct{ word, phrase string }{
	{"snow", "in the snow"}, {"beach", "on the beach"}, {"water", "in the water"},
	{"street", "on the street"}, {"grass", "on the grass"}, {"field", "in a field"},
	{"mountain", "in the mountains"},
}

// placePhrase is where main is, when a place word is well supported: the
// word detector is less sure of photos unlike Flickr8k, so a rewritten
// sentence asks it for twice the usual probability.
func (s *support) placePhrase(main bot.Subject) string {
	if main.Kind == KindObject {
		return ""
	}
	for _, p := range placePhrases {
		strong := s.words[p.word] >= 2*s.opt.WordScore
		for thing, score := range s.label {
			if score >= s.opt.LabelScore && slices.Contains(labelPlaces[thing], p.word) {
				strong = true
			}
		}
		if strong {
			return p.phrase
		}
	}
	return ""
}

// landscape is a sentence for a photo of a place and no thing.
func (s *support) landscape() string {
	best, score := "", 0.0
	for thing, v := range s.label {
		if thingKind(thing) == KindScene && v >= s.opt.StateScore && v > score {
			best, score = thing, v
		}
	}
	phrases := map[string]string{
		"mountain": "a view of the mountains", "beach": "a view of the sea shore", "coast": "a view of the coast",
		"lake": "a view of a lake", "valley": "a view over a valley", "cliff": "a view of a cliff",
		"bridge": "a bridge", "building": "a building", "church": "a church", "fountain": "a fountain",
		"stage": "a stage", "restaurant": "a restaurant", "store": "a shop", "dock": "a dock by the water",
		"pier": "a pier by the water", "reef": "a view under the sea", "monument": "a monument",
		"library": "a room full of books", "greenhouse": "a greenhouse", "patio": "a patio",
		"geyser": "a geyser",
	}
	// ImageNet's pier class also holds the piers of bridges: with a bridge
	// label as well, the photo is of a bridge.
	if best == "pier" && s.label["bridge"] >= s.opt.LabelScore {
		return "a bridge over the water"
	}
	if best != "" {
		if p, ok := phrases[best]; ok {
			return p
		}
		return article(best) + " " + best
	}
	return ""
}

// hedge says as little as the labels allow: "a photo of what may be a
// teapot", or "a photo".
func (s *support) hedge() string {
	for _, l := range s.labels {
		if l.Score < s.opt.HedgeScore {
			break
		}
		name := strings.ToLower(l.Label)
		if t, ok := imagenetThing[l.Label]; ok && thingKind(t) != KindObject {
			name = t
			if c, ok := cocoByName[t]; ok {
				name = c.one
			}
		} else if r, ok := hedgeNames[l.Label]; ok {
			name = r
		}
		return hedgePrefix + article(name) + " " + name
	}
	return "a photo"
}

// hedgeNames are ImageNet names that read wrongly on their own.
var hedgeNames = map[string]string{
	"kite": "bird of prey", "cock": "rooster", "mouse": "computer mouse", "sunglass": "pair of sunglasses",
	"jean": "pair of jeans", "maillot": "swimsuit", "nipple": "baby bottle", "ear": "ear of corn",
	"pick": "guitar pick", "cab": "taxi", "passenger car": "railway carriage", "racer": "race car",
	"web site": "web page", "comic book": "comic book",
}

// alsoSeen names, after a kept sentence, the prominent things the detector
// is sure of that the sentence leaves out (" near a bicycle"): a photo's
// subjects should all be named. Thumbnails get none: there the detector's
// guesses are weak (on the Flickr8k dev split, naming them would raise
// CHAIRs from 0.051 to 0.076).
func (s *support) alsoSeen() string {
	if s.small {
		return ""
	}
	var parts []string
	for _, b := range s.subjects() {
		if b.Source != "detector" || s.named[b.Name] || s.area[b.Name] < 0.03 {
			continue
		}
		switch b.Kind {
		case KindPerson, KindPet, KindAnimal, KindVehicle, KindFood:
		default:
			continue
		}
		parts = append(parts, noun(b.Name, b.Count))
		s.named[b.Name] = true
		if len(parts) == 2 {
			break
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " near " + joinAnd(parts)
}

// sceneryWords are the places the word detectors may name for a photo of no
// thing, with the phrase that says it.
var sceneryWords = []struct{ word, phrase string }{
	{"snow", "snow"}, {"beach", "a beach"}, {"ocean", "the ocean"}, {"water", "water"},
	{"mountain", "mountains"}, {"tree", "trees"}, {"field", "a field"}, {"building", "a building"},
	{"street", "a street"}, {"city", "a city"}, {"grass", "grass"}, {"flower", "flowers"},
	{"forest", "a forest"}, {"woods", "woods"}, {"lake", "a lake"}, {"river", "a river"}, {"road", "a road"},
}

// scenery hedges a place the word detectors give at least SceneryScore, as
// for a label ("a photo of what may be the ocean"), for a photo in which
// nothing else was seen; else it is "a photo".
func (s *support) scenery() string {
	best, score := "", 0.0
	for _, p := range sceneryWords {
		if v := s.words[p.word]; v > score {
			best, score = p.phrase, v
		}
	}
	if score >= s.opt.SceneryScore {
		return hedgePrefix + best
	}
	if s.outdoors() >= s.opt.StateScore {
		return hedgePrefix + "a landscape"
	}
	return "a photo"
}

// natureScenes are the coarse ImageNet places of open country: together they
// say "outdoors" when no one of them is sure which (an alp and a lakeside
// for a field under power lines).
var natureScenes = []string{"mountain", "valley", "lake", "beach", "coast", "cliff", "reef", "geyser"}

// outdoors is the summed label score of the natureScenes.
func (s *support) outdoors() float64 {
	var sum float64
	for _, t := range natureScenes {
		sum += s.label[t]
	}
	return sum
}

// scenePlaces are the phrases that place a kept sentence's subject in an
// outdoor scene the labels are sure of ("two people sit on a bridge"). Rooms
// and shops are left out: on the Flickr8k dev split, half of the sentences
// they would have placed "in a shop" were of a living room or a street. A church label says "a building"
// (ImageNet's church also fires on monuments).
var scenePlaces = map[string]string{
	"bridge": "on a bridge", "beach": "on the beach", "mountain": "in the mountains",
	"lake": "by a lake", "coast": "on the coast", "building": "in front of a building",
	"church": "in front of a building", "fountain": "by a fountain",
}

// placeWords start a phrase that already says where the subject is.
var placeWords = map[string]bool{
	"in": true, "on": true, "at": true, "by": true, "near": true, "through": true, "under": true,
	"over": true, "across": true, "along": true, "into": true, "down": true, "up": true,
	"beside": true, "behind": true, "inside": true, "outside": true, "around": true,
}

// hasPlace reports whether a sentence already has a place phrase.
func hasPlace(toks []string) bool {
	for _, t := range toks {
		if placeWords[t] {
			return true
		}
	}
	return false
}

// sceneSuffix is the place phrase of the scene the labels state (summed
// score at least StateScore), for a kept sentence that says nowhere; "" when
// no scene is that sure.
func (s *support) sceneSuffix() string {
	best, score := "", 0.0
	for thing, v := range s.label {
		if _, ok := scenePlaces[thing]; ok && v >= s.opt.StateScore && v > score {
			best, score = thing, v
		}
	}
	if best == "" {
		return ""
	}
	return " " + scenePlaces[best]
}

// kindInDoubt reports whether an animal the labels state only by adding up
// weak guesses (none at HedgeScore) is contradicted by the detector seeing
// another animal (at AgreeScore or more): both say "an animal", neither
// which (a chameleon was titi, howler monkey and indri to the labels, a bird
// to the detector).
func (s *support) kindInDoubt(main bot.Subject) bool {
	if main.Source != "label" || (main.Kind != KindPet && main.Kind != KindAnimal) {
		return false
	}
	for _, l := range s.labels {
		if imagenetThing[l.Label] == main.Name && l.Score >= s.opt.HedgeScore {
			return false
		}
	}
	for _, o := range s.objects {
		if o.Label != main.Name && o.Label != "person" && living(o.Label) && o.Score >= s.opt.AgreeScore {
			return true
		}
	}
	return false
}
