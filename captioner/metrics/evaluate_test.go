package metrics

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"testing"
)

func TestEvaluateCandidateEqualToAReference(t *testing.T) {
	refs := map[string][]string{"1.jpg": {
		"A black dog runs across the grass .",
		"A dog is running on a green lawn",
		"a dog in the park",
	}}
	sc, err := Evaluator{}.Evaluate(map[string]string{"1.jpg": "a black dog runs across the grass"}, refs)
	if err != nil {
		t.Fatal(err)
	}
	// Same length as the first reference: no brevity penalty, every n-gram
	// found in it.
	for n, b := range sc.BLEU {
		near(t, fmt.Sprintf("BLEU-%d", n+1), b, 1)
	}
	if sc.Images != 1 || sc.Distinct != 1 {
		t.Errorf("Images = %d, Distinct = %g, want 1, 1", sc.Images, sc.Distinct)
	}
	if sc.METEOR < 0.99 || sc.ROUGEL < 0.99 {
		t.Errorf("METEOR %g, ROUGE-L %g, want ≈1 for a copy of a reference", sc.METEOR, sc.ROUGEL)
	}
	if sc.METEORModules != "exact+stem" {
		t.Errorf("METEORModules = %q, want exact+stem for an Evaluator without WordNet", sc.METEORModules)
	}
}

// readGolden loads testdata/golden.*: 32 Flickr8k dev images with 4 human
// captions each, and a candidate per image (a held-out human caption, its
// first five words, or one of two constant captions).
func readGolden(t *testing.T) (map[string]string, map[string][]string) {
	t.Helper()
	f, err := os.Open("testdata/golden.token.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	refs, skipped, err := ReadTokenFile(f)
	if err != nil || len(skipped) != 0 {
		t.Fatalf("read refs: %v (skipped %v)", err, skipped)
	}
	g, err := os.Open("testdata/golden.candidates.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	cands := map[string]string{}
	sc := bufio.NewScanner(g)
	for sc.Scan() {
		var p struct{ Image, Caption string }
		if err := json.Unmarshal(sc.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		cands[p.Image] = p.Caption
	}
	return cands, refs
}

func TestEvaluateMatchesPycocoevalcap(t *testing.T) {
	cands, refs := readGolden(t)
	sc, err := Evaluator{}.Evaluate(cands, refs)
	if err != nil {
		t.Fatal(err)
	}
	// Reference values from an independent Python port of pycocoevalcap's
	// bleu_scorer.py, rouge.py and cider_scorer.py, fed the same tokens.
	near(t, "BLEU-1", sc.BLEU[0], 0.49598495506788903)
	near(t, "BLEU-2", sc.BLEU[1], 0.322041909930246)
	near(t, "BLEU-3", sc.BLEU[2], 0.19784527375112662)
	near(t, "BLEU-4", sc.BLEU[3], 0.12467730282379101)
	near(t, "ROUGE-L", sc.ROUGEL, 0.3582073421009092)
	near(t, "CIDEr-D", sc.CIDErD, 0.46034860284205803)
	// 18 different candidates among 32 images: 8 held-out captions, 8 cut
	// ones, and 2 constants used 8 times each.
	near(t, "Distinct", sc.Distinct, 18.0/32)
	if sc.METEOR <= 0.05 || sc.METEOR >= 0.5 {
		t.Errorf("METEOR = %g, want a mid-range score for this mix", sc.METEOR)
	}
}

func TestEvaluateConstantCaptionScoresLowCIDEr(t *testing.T) {
	cands, refs := readGolden(t)
	constant := map[string]string{}
	for img := range cands {
		constant[img] = "a dog runs through the grass"
	}
	cs, err := Evaluator{}.Evaluate(constant, refs)
	if err != nil {
		t.Fatal(err)
	}
	mixed, err := Evaluator{}.Evaluate(cands, refs)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "Distinct", cs.Distinct, 1.0/32)
	if cs.CIDErD > 0.2 || cs.CIDErD >= mixed.CIDErD/2 {
		t.Errorf("constant caption CIDEr-D = %g (varied captions %g), want low", cs.CIDErD, mixed.CIDErD)
	}
}

func TestEvaluateErrors(t *testing.T) {
	if _, err := Evaluate(nil, nil); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("no candidates: err = %v", err)
	}
	_, err := Evaluate(map[string]string{"x.jpg": "a dog"}, map[string][]string{"y.jpg": {"a dog"}})
	if !errors.Is(err, ErrNoReferences) {
		t.Errorf("missing references: err = %v", err)
	}
}

func TestEvaluateDefaultUsesWordNetWhenInstalled(t *testing.T) {
	loadSystemWordNet(t)
	sc, err := Evaluate(map[string]string{"1.jpg": "a car"}, map[string][]string{"1.jpg": {"an automobile"}})
	if err != nil {
		t.Fatal(err)
	}
	if sc.METEORModules != "exact+stem+synonym" || sc.METEOR == 0 {
		t.Errorf("modules %q, METEOR %g: want synonyms to match car/automobile", sc.METEORModules, sc.METEOR)
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add("a dog runs", "a dog is running", "the dog")
	f.Add("", "", "")
	f.Add("!!! ???", "a a a a a", "b")
	f.Add("Ünïcode façade", "the the the", "faç")
	f.Fuzz(func(t *testing.T, cand, ref1, ref2 string) {
		sc, err := Evaluator{}.Evaluate(map[string]string{"a.jpg": cand, "b.jpg": ref2},
			map[string][]string{"a.jpg": {ref1, ref2}, "b.jpg": {ref1}})
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]float64{"BLEU-1": sc.BLEU[0], "BLEU-4": sc.BLEU[3], "METEOR": sc.METEOR, "ROUGE-L": sc.ROUGEL} {
			if math.IsNaN(v) || v < 0 || v > 1+1e-9 {
				t.Errorf("%s = %g, want in [0, 1]", name, v)
			}
		}
		if math.IsNaN(sc.CIDErD) || sc.CIDErD < 0 || sc.CIDErD > 10+1e-9 {
			t.Errorf("CIDEr-D = %g, want in [0, 10]", sc.CIDErD)
		}
	})
}

func BenchmarkEvaluate(b *testing.B) {
	cands := map[string]string{}
	refs := map[string][]string{}
	for i := range 200 {
		img := fmt.Sprintf("%d.jpg", i)
		cands[img] = "a man in a red shirt is climbing a rock"
		refs[img] = []string{"a climber on a rock face", "a man climbs a large rock", "a person in red climbing", "someone rock climbing outdoors"}
	}
	for b.Loop() {
		if _, err := (Evaluator{}).Evaluate(cands, refs); err != nil {
			b.Fatal(err)
		}
	}
}
