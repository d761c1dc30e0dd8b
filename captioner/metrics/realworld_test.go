package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNames(t *testing.T) {
	for w, want := range map[string][]string{
		"dog":    {"dog", "dogs"},
		"man":    {"man", "mans", "men"},
		"woman":  {"woman", "womans", "women"},
		"child":  {"child", "childs", "children"},
		"person": {"person", "persons", "people"},
		"puppy":  {"puppy", "puppies"},
		"toy":    {"toy", "toys"},
		"bus":    {"bus", "buses"},
		"bench":  {"bench", "benches"},
		"box":    {"box", "boxes"},
		"leaf":   {"leaf", "leafs", "leaves"},
		"knife":  {"knife", "knifes", "knives"},
		"tomato": {"tomato", "tomatos", "tomatoes"},
		"horse":  {"horse", "horses"},
		"sheep":  {"sheep", "sheeps"},
	} {
		if got := Names(w); !cmp.Equal(got, want) {
			t.Errorf("Names(%q) = %q, want %q", w, got, want)
		}
	}
}

func TestCheck(t *testing.T) {
	giraffe := RealWorldPhoto{
		File:     "giraffe.jpg",
		Subjects: [][]string{{"giraffe"}, {"zebra"}},
		Present:  []string{"grass", "tree", "field"},
	}
	people := RealWorldPhoto{
		File:     "men.jpg",
		Subjects: [][]string{{"person", "man", "people"}},
		Present:  []string{"table"},
		Absent:   []string{"cathedral"},
	}
	food := RealWorldPhoto{
		File:     "hotdog.jpg",
		Subjects: [][]string{{"hot dog", "sausage"}},
		Present:  []string{"plate", "teddy bear"},
	}
	church := RealWorldPhoto{
		File:     "church.jpg",
		Subjects: [][]string{{"cathedral", "church"}},
		Present:  []string{"sky"},
	}
	for _, c := range []struct {
		name  string
		photo RealWorldPhoto
		text  string
		want  TextCheck
	}{
		{"both subjects, scene words allowed", giraffe, "A giraffe and a zebra stand in the grass.",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{}}},
		{"plurals", giraffe, "two giraffes and three zebras",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{}}},
		{"the Flickr8k dog", giraffe, "a black and white dog is running through the grass",
			TextCheck{Named: []string{}, Missed: []string{"giraffe", "zebra"}, Hallucinated: []string{"dog"}}},
		{"one subject, hallucinated vocabulary words listed once", giraffe, "a giraffe with a ball, a ball and two dogs on the beach",
			TextCheck{Named: []string{"giraffe"}, Missed: []string{"zebra"}, Hallucinated: []string{"ball", "dog", "beach"}}},
		{"hashtags name things", giraffe, "Wild afternoon! #giraffe #zebra #dog",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{"dog"}}},
		{"hashtag glued words are not words", giraffe, "#giraffelove #zebrastripes #doglife",
			TextCheck{Named: []string{}, Missed: []string{"giraffe", "zebra"}, Hallucinated: []string{}}},
		{"punctuation and case", giraffe, "GIRAFFE, zebra... (and a Cat!)",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{"cat"}}},
		{"men allows man, irregular plurals", people, "two men and a man at a table",
			TextCheck{Named: []string{"person"}, Missed: []string{}, Hallucinated: []string{}}},
		{"people is person", people, "people at tables",
			TextCheck{Named: []string{"person"}, Missed: []string{}, Hallucinated: []string{}}},
		{"gender words not allowed", people, "a woman and two children",
			TextCheck{Named: []string{}, Missed: []string{"person"}, Hallucinated: []string{"woman", "child"}}},
		{"photo's own absent words", people, "a man in front of a cathedral",
			TextCheck{Named: []string{"person"}, Missed: []string{}, Hallucinated: []string{"cathedral"}}},
		{"cathedral is not cat", church, "a cathedral under a blue sky",
			TextCheck{Named: []string{"cathedral"}, Missed: []string{}, Hallucinated: []string{}}},
		{"possessive", church, "the cat's church",
			TextCheck{Named: []string{"cathedral"}, Missed: []string{}, Hallucinated: []string{"cat"}}},
		{"multiword subject", food, "a hot dog on a plate",
			TextCheck{Named: []string{"hot dog"}, Missed: []string{}, Hallucinated: []string{}}},
		{"multiword plural and hashtag", food, "hot dogs! #hotdog",
			TextCheck{Named: []string{"hot dog"}, Missed: []string{}, Hallucinated: []string{}}},
		{"hashtag of a multiword phrase", food, "lunch #hotdogs",
			TextCheck{Named: []string{"hot dog"}, Missed: []string{}, Hallucinated: []string{}}},
		{"hot dog is no dog", giraffe, "a giraffe and a zebra eat a hot dog",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{"hot dog"}}},
		{"hotdog is not dog", giraffe, "giraffe, zebra, hotdog",
			TextCheck{Named: []string{"giraffe", "zebra"}, Missed: []string{}, Hallucinated: []string{"hot dog"}}},
		{"dog alone in a food photo", food, "a dog on a plate",
			TextCheck{Named: []string{}, Missed: []string{"hot dog"}, Hallucinated: []string{"dog"}}},
		{"teddy bear allowed, bear not", food, "a hot dog and a teddy bear, and a bear",
			TextCheck{Named: []string{"hot dog"}, Missed: []string{}, Hallucinated: []string{"bear"}}},
		{"empty text", giraffe, "",
			TextCheck{Named: []string{}, Missed: []string{"giraffe", "zebra"}, Hallucinated: []string{}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.photo.Check(c.text)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", c.text, diff)
			}
			if got.Right() != (len(c.want.Missed) == 0 && len(c.want.Hallucinated) == 0) {
				t.Errorf("Right() = %v", got.Right())
			}
		})
	}
}

func TestRealWorldScores(t *testing.T) {
	var s RealWorldScores
	s.Add(TextCheck{Named: []string{"giraffe", "zebra"}})                                                     // right
	s.Add(TextCheck{Named: []string{"dog"}, Hallucinated: []string{"ball"}})                                  // hallucinated
	s.Add(TextCheck{Missed: []string{"cat"}})                                                                 // missed
	s.Add(TextCheck{Named: []string{"man"}, Missed: []string{"horse"}, Hallucinated: []string{"dog", "car"}}) // both
	want := RealWorldScores{Photos: 4, Right: 1, Hallucinated: 2, Subjects: 6, Named: 4}
	if s != want {
		t.Fatalf("scores = %+v, want %+v", s, want)
	}
	if s.RightRate() != 0.25 || s.HallucinatedRate() != 0.5 || s.SubjectRecall() != 4.0/6 {
		t.Errorf("rates %v %v %v", s.RightRate(), s.HallucinatedRate(), s.SubjectRecall())
	}
	if (RealWorldScores{}).SubjectRecall() != 0 {
		t.Error("empty set's recall should be 0")
	}
}

func TestReadRealWorldErrors(t *testing.T) {
	for _, c := range []struct{ name, json, want string }{
		{"not json", `{"version":`, "unexpected EOF"},
		{"unknown field", `{"version":1,"photos":[{"file":"a.jpg","subjects":[["a"]],"colour":1}]}`, "unknown field"},
		{"version", `{"version":2,"photos":[]}`, "version 2"},
		{"no photos", `{"version":1,"photos":[]}`, "no photos"},
		{"no file", `{"version":1,"photos":[{"subjects":[["a"]]}]}`, "photo 1 has no file"},
		{"twice", `{"version":1,"photos":[{"file":"a.jpg","subjects":[["a"]]},{"file":"a.jpg","subjects":[["b"]]}]}`, "a.jpg is listed twice"},
		{"no subjects", `{"version":1,"photos":[{"file":"a.jpg","subjects":[]}]}`, "no subjects"},
		{"empty subject", `{"version":1,"photos":[{"file":"a.jpg","subjects":[[]]}]}`, "empty subject"},
		{"empty word", `{"version":1,"photos":[{"file":"a.jpg","subjects":[["a"]],"present":["!"]}]}`, "empty word"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadRealWorld(strings.NewReader(c.json))
			if !errors.Is(err, ErrBadRealWorld) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want ErrBadRealWorld with %q", err, c.want)
			}
		})
	}
}

// TestRealWorldManifest checks the shipped set: it reads, its photos exist,
// and each photo's subject words are not in the way of each other.
func TestRealWorldManifest(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "realworld")
	f, err := os.Open(filepath.Join(dir, "photos.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	set, err := ReadRealWorld(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Photos) < 50 {
		t.Errorf("%d photos, want at least 50", len(set.Photos))
	}
	for _, p := range set.Photos {
		if _, err := os.Stat(filepath.Join(dir, p.File)); err != nil {
			t.Errorf("%s: %v", p.File, err)
		}
		if p.Source.Package == "" || p.Source.Version == "" || p.Source.Path == "" || p.Licence == "" {
			t.Errorf("%s: source or licence missing", p.File)
		}
		// A caption made of every subject's first word is right.
		var words []string
		for _, s := range p.Subjects {
			words = append(words, s[0])
		}
		if c := p.Check(strings.Join(words, " and ")); !c.Right() {
			t.Errorf("%s: its own subjects are not right: %+v", p.File, c)
		}
		// So is one that names everything present too.
		if c := p.Check(strings.Join(append(words, p.Present...), ", ")); !c.Right() {
			t.Errorf("%s: its present words hallucinate: %+v", p.File, c)
		}
		if slices.Contains(p.Present, "") {
			t.Errorf("%s: empty present word", p.File)
		}
	}
}
