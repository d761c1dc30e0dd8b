package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner"
)

// runEvalArgs runs "captionbot eval args..." in process.
func runEvalArgs(t *testing.T, dp deps, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), dp, append([]string{"eval"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// evalData are the testdata/eval files: 32 Flickr8k dev images with 4
// reference captions each and saved predictions whose image paths carry a
// folder (matched on base name).
var evalData = struct{ captions, split, predictions string }{
	"testdata/eval/captions.txt", "testdata/eval/split.txt", "testdata/eval/predictions.jsonl",
}

func TestEvalPredictionsJSON(t *testing.T) {
	code, stdout, stderr := runEvalArgs(t, defaultDeps(), "--predictions", evalData.predictions,
		"--captions", evalData.captions, "--split", evalData.split, "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Errorf("want one JSON line, got:\n%s", stdout)
	}
	var got map[string]float64
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("output is not a JSON object: %v\n%s", err, stdout)
	}
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	wantKeys := []string{"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rougeL", "ciderD", "distinct", "chair_s", "chair_i", "images"}
	if diff := cmp.Diff(wantKeys, keys, cmpSorted); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	// The same data and numbers as captioner/metrics' pycocoevalcap
	// cross-check.
	for k, want := range map[string]float64{
		"bleu1": 0.49598495506788903, "bleu4": 0.12467730282379101,
		"rougeL": 0.3582073421009092, "ciderD": 0.46034860284205803,
		"distinct": 18.0 / 32, "images": 32,
	} {
		if math.Abs(got[k]-want) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if got["meteor"] <= 0 || got["meteor"] >= 1 {
		t.Errorf("meteor = %v, want in (0, 1)", got["meteor"])
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
})

func TestEvalPredictionsTable(t *testing.T) {
	code, stdout, stderr := runEvalArgs(t, defaultDeps(), "--predictions", evalData.predictions,
		"--captions", evalData.captions, "--split", evalData.split)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"BLEU-1     0.4960", "BLEU-4     0.1247", "METEOR", "ROUGE-L    0.3582", "CIDEr-D    0.4603", "56.2%  (18 distinct captions for 32 images)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, stdout)
		}
	}
	if stderr != "" {
		t.Errorf("stderr should be empty, got:\n%s", stderr)
	}
}

// writeFile writes text to name in a temp dir and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEvalBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	splitExtra := writeFile(t, dir, "split.txt", "2090545563_a4e66ec76b.jpg\nnot_in_captions.jpg\n")
	onePred := writeFile(t, dir, "one.jsonl", `{"image":"2090545563_a4e66ec76b.jpg","caption":"a dog"}`+"\n")
	badJSON := writeFile(t, dir, "bad.jsonl", "{\"image\": \n")
	noCaption := writeFile(t, dir, "nocap.jsonl", `{"image":"2090545563_a4e66ec76b.jpg","labels":[]}`+"\n")
	conflict := writeFile(t, dir, "conflict.jsonl", `{"image":"a/2090545563_a4e66ec76b.jpg","caption":"x"}`+"\n"+`{"image":"b/2090545563_a4e66ec76b.jpg","caption":"y"}`+"\n")
	emptySplit := writeFile(t, dir, "empty.txt", "\n")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no split", []string{"--predictions", evalData.predictions, "--captions", evalData.captions}, "--captions and --split are required"},
		{"no images", []string{"--captions", evalData.captions, "--split", evalData.split}, "--images (or --predictions) is required"},
		{"predictions and images", []string{"--predictions", evalData.predictions, "--images", dir, "--captions", evalData.captions, "--split", evalData.split}, "does not go with"},
		{"missing captions file", []string{"--predictions", evalData.predictions, "--captions", filepath.Join(dir, "nope.txt"), "--split", evalData.split}, "no such file"},
		{"split image without captions", []string{"--predictions", evalData.predictions, "--captions", evalData.captions, "--split", splitExtra}, "1 images of the split have no captions"},
		{"empty split", []string{"--predictions", evalData.predictions, "--captions", evalData.captions, "--split", emptySplit}, "lists no images"},
		{"missing predictions", []string{"--predictions", onePred, "--captions", evalData.captions, "--split", evalData.split}, "31 images of the split have no prediction"},
		{"malformed predictions", []string{"--predictions", badJSON, "--captions", evalData.captions, "--split", evalData.split}, "bad.jsonl:1"},
		{"prediction without caption", []string{"--predictions", noCaption, "--captions", evalData.captions, "--split", evalData.split}, `want an object with "image" and "caption"`},
		{"conflicting predictions", []string{"--predictions", conflict, "--captions", evalData.captions, "--split", evalData.split}, "a second, different caption"},
		{"missing photos", []string{"--images", dir, "--captions", evalData.captions, "--split", evalData.split}, "32 images of the split are missing from"},
		{"negative beam", []string{"--images", dir, "--beam", "-1", "--captions", evalData.captions, "--split", evalData.split}, "--beam must be at least 1"},
		{"stray argument", []string{"extra"}, `unexpected argument "extra"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runEvalArgs(t, defaultDeps(), c.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout should be empty, got %q", stdout)
			}
		})
	}
}

// captionByText is a Describer whose caption is the photo file's text.
type captionByText struct{}

func (captionByText) Describe(_ context.Context, img []byte) (bot.Description, error) {
	if string(img) == "bad" {
		return bot.Description{}, bot.ErrNotImage
	}
	return bot.Description{Caption: string(img), Labels: []bot.Label{{Label: "dog", Score: 0.9}}}, nil
}

// evalPhotos writes one "photo" per split image whose text is caption(name).
func evalPhotos(t *testing.T, caption func(name string) string) string {
	t.Helper()
	dir := t.TempDir()
	split, err := os.ReadFile(evalData.split)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(split)) {
		writeFile(t, dir, name, caption(name))
	}
	return dir
}

// useDescriber returns deps whose openDescriber returns d and records the
// config it got.
func useDescriber(t *testing.T, d bot.Describer) (deps, **config) {
	t.Helper()
	var got *config
	dp := defaultDeps()
	dp.openDescriber = func(cfg *config) (bot.Describer, io.Closer, error) { got = cfg; return d, io.NopCloser(nil), nil }
	return dp, &got
}

func TestEvalCaptionsTheSplit(t *testing.T) {
	dp, gotCfg := useDescriber(t, captionByText{})
	// Each photo's caption is its first reference: BLEU-1 is then 1 for
	// every image, so the corpus BLEU-1 is 1.
	refs := map[string]string{}
	f, err := os.Open(evalData.captions)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, caption, _ := strings.Cut(sc.Text(), "\t")
		name, _, _ := strings.Cut(key, "#")
		if _, ok := refs[name]; !ok {
			refs[name] = caption
		}
	}
	f.Close()
	dir := evalPhotos(t, func(name string) string { return refs[name] })
	outPath := filepath.Join(t.TempDir(), "pred.jsonl")

	code, stdout, stderr := runEvalArgs(t, dp, "--images", dir, "--captions", evalData.captions,
		"--split", evalData.split, "--beam", "5", "--json", "--out", outPath)
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if (*gotCfg).Captioner.Beam != 5 {
		t.Errorf("beam = %d, want the --beam override 5", (*gotCfg).Captioner.Beam)
	}
	var got evalJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.BLEU1-1) > 1e-9 || got.Images != 32 || got.Distinct != 1 {
		t.Errorf("got %+v, want BLEU-1 1, 32 images, all distinct", got)
	}
	if !strings.Contains(stderr, "captioned 32 images") || strings.Contains(stderr, "\r") {
		t.Errorf("stderr should report once without a progress bar (not a terminal):\n%s", stderr)
	}

	// --out holds caption --json lines that --predictions scores the same.
	code, stdout2, stderr := runEvalArgs(t, dp, "--predictions", outPath, "--captions", evalData.captions,
		"--split", evalData.split, "--json")
	if code != exitOK {
		t.Fatalf("rescoring --out: exit %d, stderr:\n%s", code, stderr)
	}
	if stdout2 != stdout {
		t.Errorf("rescored --out = %s, want %s", stdout2, stdout)
	}
}

func TestEvalCaptionFailuresExit1(t *testing.T) {
	dp, _ := useDescriber(t, captionByText{})
	n := 0
	dir := evalPhotos(t, func(string) string {
		n++
		if n%10 == 0 {
			return "bad"
		}
		return "a dog"
	})
	code, stdout, stderr := runEvalArgs(t, dp, "--images", dir, "--captions", evalData.captions, "--split", evalData.split)
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stderr, "3 of 32 images could not be captioned") || !strings.Contains(stderr, "not an image") {
		t.Errorf("stderr:\n%s", stderr)
	}
	if stdout != "" {
		t.Errorf("no scores should be printed, got:\n%s", stdout)
	}
}

func TestEvalEmptyCaptionsAreFailures(t *testing.T) {
	dp, _ := useDescriber(t, captionByText{})
	dir := evalPhotos(t, func(string) string { return "" })
	code, _, stderr := runEvalArgs(t, dp, "--images", dir, "--captions", evalData.captions, "--split", evalData.split)
	if code != exitFailure || !strings.Contains(stderr, "is the decoder model installed?") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestEvalSetupErrorExits2(t *testing.T) {
	dp := defaultDeps()
	dp.openDescriber = func(cfg *config) (bot.Describer, io.Closer, error) {
		return nil, nil, fmt.Errorf("open model: %w", captioner.ErrNoModel)
	}
	dir := evalPhotos(t, func(string) string { return "a dog" })
	code, _, stderr := runEvalArgs(t, dp, "--images", dir, "--captions", evalData.captions, "--split", evalData.split)
	if code != exitUsage {
		t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
	}
}
