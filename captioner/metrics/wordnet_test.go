package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// loadSystemWordNet loads Debian's WordNet or skips the test.
func loadSystemWordNet(t *testing.T) *WordNet {
	t.Helper()
	wn, err := LoadWordNet(DefaultWordNetDir)
	if errors.Is(err, ErrNoWordNet) {
		t.Skipf("WordNet not installed (apt-get install wordnet-base): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return wn
}

// writeWordNet writes a tiny WordNet database into a temporary directory.
func writeWordNet(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, pos := range []string{"noun", "verb", "adj", "adv"} {
		if _, ok := files["index."+pos]; !ok {
			files["index."+pos] = "  1 license line starts with spaces\n"
		}
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadWordNetParsesIndexAndExceptions(t *testing.T) {
	dir := writeWordNet(t, map[string]string{
		// lemma pos synset_cnt p_cnt ptrs... sense_cnt tagsense_cnt offsets...
		"index.noun": "  1 license\nauto n 1 2 @ ~ 1 0 02958343  \ncar n 2 1 @ 2 1 02958343 02959942  \nmouse n 1 0 1 0 02330245  \nice_cream n 1 0 1 0 07614500  \n",
		"index.verb": "run v 2 0 2 1 01926311 02075049  \n",
		"noun.exc":   "mice mouse\n",
	})
	wn, err := LoadWordNet(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !intersects(wn.Synsets("auto"), wn.Synsets("car")) {
		t.Error("auto and car should share a synset")
	}
	if !intersects(wn.Synsets("cars"), wn.Synsets("auto")) {
		t.Error("cars should reach car's synsets through the -s rule")
	}
	if !intersects(wn.Synsets("mice"), wn.Synsets("mouse")) {
		t.Error("mice should reach mouse through the exception list")
	}
	if !intersects(wn.Synsets("runs"), wn.Synsets("run")) {
		t.Error("runs should reach run through the -s rule")
	}
	// Like WordNet's morphy as METEOR copies it, detachment does not undouble.
	if len(wn.Synsets("running")) != 0 {
		t.Error("running has no base form without an exception entry")
	}
	// Noun 02958343 and a verb at the same offset are different synsets.
	if intersects(wn.Synsets("run"), wn.Synsets("car")) {
		t.Error("parts of speech must not share synset keys")
	}
	if len(wn.Synsets("ice")) != 0 {
		t.Error("multi-word lemmas should be skipped")
	}
	if len(wn.Synsets("zebra")) != 0 {
		t.Error("unknown words have no synsets")
	}
}

func TestLoadWordNetErrors(t *testing.T) {
	if _, err := LoadWordNet(t.TempDir()); !errors.Is(err, ErrNoWordNet) {
		t.Errorf("empty dir: err = %v, want ErrNoWordNet", err)
	}
	dir := writeWordNet(t, map[string]string{"index.noun": "car n 5 0 1 0 02958343\n"})
	if _, err := LoadWordNet(dir); err == nil || errors.Is(err, ErrNoWordNet) {
		t.Errorf("truncated line: err = %v, want a parse error", err)
	}
	dir = writeWordNet(t, map[string]string{"index.noun": "car n 1 0 1 0 notanumber\n"})
	if _, err := LoadWordNet(dir); err == nil {
		t.Error("bad offset: want an error")
	}
}

func TestSystemWordNet(t *testing.T) {
	wn := loadSystemWordNet(t)
	for _, pair := range [][2]string{{"car", "automobile"}, {"photo", "picture"}, {"children", "kid"}} {
		if !intersects(wn.Synsets(pair[0]), wn.Synsets(pair[1])) {
			t.Errorf("%s and %s should be WordNet synonyms", pair[0], pair[1])
		}
	}
}
