package metrics

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestStemClassicVocabulary(t *testing.T) {
	// Samples from Porter's paper (steps 1a-5) and from the voc.txt/output.txt
	// pair published with his reference implementation.
	cases := map[string]string{
		// step 1a
		"caresses": "caress", "ponies": "poni", "ties": "ti", "caress": "caress", "cats": "cat",
		// step 1b
		"feed": "feed", "agreed": "agre", "plastered": "plaster", "bled": "bled",
		"motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
		"sized": "size", "hopping": "hop", "tanned": "tan", "falling": "fall",
		"hissing": "hiss", "fizzed": "fizz", "failing": "fail", "filing": "file",
		// step 1c
		"happy": "happi", "sky": "sky",
		// steps 2-5 through the whole algorithm
		"relational": "relat", "conditional": "condit", "rational": "ration",
		"digitizer": "digit", "operator": "oper", "feudalism": "feudal",
		"decisiveness": "decis", "hopefulness": "hope", "callousness": "callous",
		"formality": "formal", "sensitivity": "sensit", "sensibility": "sensibl",
		"triplicate": "triplic", "formative": "form", "formalize": "formal",
		"electricity": "electr", "electrical": "electr", "hopeful": "hope",
		"goodness": "good", "revival": "reviv", "allowance": "allow",
		"inference": "infer", "airliner": "airlin", "gyroscopic": "gyroscop",
		"adjustable": "adjust", "defensible": "defens", "irritant": "irrit",
		"replacement": "replac", "adjustment": "adjust", "dependent": "depend",
		"adoption": "adopt", "homologous": "homolog", "communism": "commun",
		"activate": "activ", "angularity": "angular", "effective": "effect",
		"bowdlerize": "bowdler", "probate": "probat", "rate": "rate", "cease": "ceas",
		"controlling": "control", "roll": "roll", "generalizations": "gener",
		"oscillators": "oscil", "connection": "connect", "connections": "connect",
		"connective": "connect", "connecting": "connect", "connected": "connect",
		// voc.txt samples
		"abandoned": "abandon", "abilities": "abil", "ability": "abil", "able": "abl",
		"abruptly": "abruptli", "absolutely": "absolut", "accidentally": "accident",
		"accordingly": "accordingli", "accompanied": "accompani", "achieve": "achiev",
		"acknowledge": "acknowledg", "across": "across", "actually": "actual",
		// reference departures: -bli, -logi, short words
		"possibly": "possibl", "analogies": "analog", "as": "as", "is": "is",
		// not lowercase ASCII: unchanged
		"café": "café", "Dogs": "Dogs",
	}
	for word, want := range cases {
		if got := Stem(word); got != want {
			t.Errorf("Stem(%q) = %q, want %q", word, got, want)
		}
	}
}

// referenceDepartures are the words of the Flickr8k vocabulary where
// Snowball's "porter" (which wrote the fixture) and Porter's reference C code
// differ: the reference leaves words of up to two letters alone, maps -bli to
// -ble, and undoubles any final double consonant but l, s, z (Snowball only
// bb dd ff gg mm nn pp rr tt).
var referenceDepartures = map[string]string{
	"as": "as", "is": "is", "ls": "ls", "us": "us",
	"pebbly": "pebbl", "possibly": "possibl",
	"trekking": "trek",
}

func TestStemFlickr8kVocabulary(t *testing.T) {
	f, err := os.Open("testdata/porter_flickr8k.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		word, want, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad fixture line %q", line)
		}
		if dep, ok := referenceDepartures[word]; ok {
			want = dep
		}
		if got := Stem(word); got != want {
			t.Errorf("Stem(%q) = %q, want %q", word, got, want)
		}
		n++
	}
	if n < 8000 {
		t.Fatalf("fixture has %d words, want the whole vocabulary", n)
	}
}

func BenchmarkStem(b *testing.B) {
	words := []string{"generalizations", "running", "dogs", "playing", "beautiful", "a"}
	for b.Loop() {
		for _, w := range words {
			Stem(w)
		}
	}
}
