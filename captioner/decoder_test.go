package captioner

import (
	"context"
	"fmt"
	"image"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	ort "github.com/yalue/onnxruntime_go"
)

// testDecoder is a decoder without ONNX sessions, for the search helpers.
func testDecoder(words ...string) *decoder {
	d := &decoder{vocab: append([]string{"<pad>", "<start>", "<end>", "<unk>"}, words...)}
	d.pad, d.start, d.end, d.unk = 0, 1, 2, 3
	d.markOpenEnds()
	return d
}

func TestExpandKeepsTopWordsAndSkipsSpecials(t *testing.T) {
	d := testDecoder("a", "dog", "runs")
	//                <pad> <start> <end> <unk>   a     dog   runs
	row := []float32{-0.1, -0.1, -3, -0.05, -1, -0.5, -2}
	got := d.expand(nil, row, hypothesis{score: -1}, 0, 2, false, true)
	want := []candidate{{score: -1.5, parent: 0, word: 5}, {score: -2, parent: 0, word: 4}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(candidate{})); diff != "" {
		t.Errorf("expand (-want +got):\n%s", diff)
	}
	// At the last step only <end> may follow.
	got = d.expand(nil, row, hypothesis{score: -1}, 1, 2, true, true)
	if len(got) != 1 || got[0].word != d.end || got[0].score != -4 || got[0].parent != 1 {
		t.Errorf("last step: got %+v, want only <end> with score -4", got)
	}
}

func TestExpandBlocksRepeatedTrigram(t *testing.T) {
	d := testDecoder("a", "dog", "runs")
	a, dog, runs := 4, 5, 6
	// "a dog runs a dog" must not continue with "runs" again.
	hyp := hypothesis{ids: []int{a, dog, runs, a, dog}}
	row := []float32{-9, -9, -9, -9, -3, -4, -0.1}
	got := d.expand(nil, row, hyp, 0, 1, false, true)
	if len(got) != 1 || got[0].word == runs {
		t.Fatalf("trigram not blocked: %+v", got)
	}
	got = d.expand(nil, row, hyp, 0, 1, false, false)
	if got[0].word != runs {
		t.Fatalf("without blocking the best word is %d, want runs", got[0].word)
	}
}

func TestExpandNeverEndsOnAnOpenWord(t *testing.T) {
	d := testDecoder("a", "dog", "on", "red")
	a, dog, on, red := 4, 5, 6, 7
	//                <pad> <start> <end> <unk>  a    dog   on   red
	row := []float32{-9, -9, -0.1, -9, -3, -1, -4, -2}
	for _, tc := range []struct {
		name    string
		ids     []int
		mayStop bool
	}{
		{"after a noun", []int{a, dog}, true},
		{"after an article", []int{a}, false},
		{"after a preposition", []int{a, dog, on}, false},
		{"after a colour", []int{a, dog, on, a, red}, false},
	} {
		got := d.expand(nil, row, hypothesis{ids: tc.ids}, 0, 2, false, true)
		stops := slices.ContainsFunc(got, func(c candidate) bool { return c.word == d.end })
		if stops != tc.mayStop {
			t.Errorf("%s: <end> among %+v is %v, want %v", tc.name, got, stops, tc.mayStop)
		}
	}
	// At the last step <end> is forced even there, so captions stay bounded.
	got := d.expand(nil, row, hypothesis{ids: []int{a, red}}, 0, 2, true, true)
	if len(got) != 1 || got[0].word != d.end {
		t.Errorf("last step after a colour: got %+v, want only <end>", got)
	}
}

func TestPickBestLengthNormalisation(t *testing.T) {
	short := decoded{ids: []int{4}, logProb: -2}         // 2 tokens with <end>: mean -1
	long := decoded{ids: []int{4, 5, 6, 7}, logProb: -3} // 5 tokens: mean -0.6
	if got := pickBest([]decoded{short, long}, nil, 0); len(got.ids) != 1 {
		t.Errorf("alpha 0 should prefer the higher raw score (short), got %v", got.ids)
	}
	if got := pickBest([]decoded{short, long}, nil, 1); len(got.ids) != 4 {
		t.Errorf("alpha 1 should prefer the higher mean (long), got %v", got.ids)
	}
}

func TestGatherAndRepeatRows(t *testing.T) {
	src := []float32{1, 2, 3, 4}
	if got := repeatRows(src, 2, 2); !slices.Equal(got, []float32{1, 2, 1, 2, 3, 4, 3, 4}) {
		t.Errorf("repeatRows = %v", got)
	}
	dst := make([]float32, 6)
	gatherRows(dst, []float32{1, 2, 3, 4, 5, 6}, []int{2, 0, 2}, 2)
	if !slices.Equal(dst, []float32{5, 6, 1, 2, 5, 6}) {
		t.Errorf("gatherRows = %v", dst)
	}
}

// decoderDir is the exported decoder to test: $CAPTIONBOT_DECODER_DIR (the
// training smoke test sets it) or the committed models/.
func decoderDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CAPTIONBOT_DECODER_DIR")
	if dir == "" {
		dir = filepath.Join("..", "models")
	}
	if !isFile(filepath.Join(dir, decoderMetaFile)) {
		t.Skipf("no exported decoder in %s (train one with models/train/train.sh)", dir)
	}
	if _, err := InitRuntime(""); err != nil {
		t.Skipf("ONNX Runtime not installed (run scripts/setup.sh): %v", err)
	}
	return dir
}

func TestExportedDecoderGraphs(t *testing.T) {
	dir := decoderDir(t)
	d, err := loadDecoder(dir, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	ins, outs, err := ort.GetInputOutputInfo(filepath.Join(dir, decoderInitFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ins); !slices.Equal(got, d.meta.Inputs) || got[0] != d.meta.Input {
		t.Errorf("init inputs %v, want %v starting with %s", got, d.meta.Inputs, d.meta.Input)
	}
	wantDims := map[string]int64{"pooled": 1280, "spatial": 1280, detectorVectorInput: DetectorVectorLen}
	for _, in := range ins {
		if got := in.Dimensions[len(in.Dimensions)-1]; got != wantDims[in.Name] {
			t.Errorf("init input %s's last dimension %d, want %d", in.Name, got, wantDims[in.Name])
		}
	}
	if got := names(outs); !slices.Equal(got, d.initOut) {
		t.Errorf("init outputs %v, want %v", got, d.initOut)
	}
	ins, outs, err = ort.GetInputOutputInfo(filepath.Join(dir, decoderStepFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ins); !slices.Equal(got, d.stepIn) {
		t.Errorf("step inputs %v, want %v", got, d.stepIn)
	}
	if got := names(outs); !slices.Equal(got, []string{"logprobs", "h_out", "c_out"}) {
		t.Errorf("step outputs %v", got)
	}
	if ins[0].DataType != ort.TensorElementDataTypeInt64 {
		t.Errorf("tokens are %v, want int64", ins[0].DataType)
	}
	if v := outs[0].Dimensions[1]; v != int64(len(d.vocab)) {
		t.Errorf("logprobs width %d, vocabulary %d", v, len(d.vocab))
	}
	if h := outs[1].Dimensions[1]; h != int64(d.meta.Hidden) {
		t.Errorf("h_out width %d, decoder.json says %d", h, d.meta.Hidden)
	}
}

func TestBeamSearchIsDeterministicAndBounded(t *testing.T) {
	dir := decoderDir(t)
	d, err := loadDecoder(dir, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	rng := rand.New(rand.NewSource(1))
	encs := make([]Encoding, 3)
	for i := range encs {
		encs[i] = Encoding{Pooled: make([]float32, 1280), Spatial: make([]float32, 49*1280),
			Detector: make([]float32, DetectorVectorLen)}
		for j := range encs[i].Detector {
			encs[i].Detector[j] = rng.Float32()
		}
		for j := range encs[i].Spatial {
			encs[i].Spatial[j] = rng.Float32() * 2
		}
		for j := range encs[i].Pooled {
			encs[i].Pooled[j] = rng.Float32() * 2
		}
	}
	for _, width := range []int{1, 3} {
		opt := BeamOptions{Width: width, MaxLen: 8, LengthAlpha: 0.7, NoRepeatTrigram: true}
		first, err := d.captions(context.Background(), encs, opt)
		if err != nil {
			t.Fatal(err)
		}
		again, err := d.captions(context.Background(), encs, opt)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("beam %d not deterministic:\n%s", width, diff)
		}
		// A batch gives the same captions as one image at a time.
		for i := range encs {
			one, err := d.captions(context.Background(), encs[i:i+1], opt)
			if err != nil {
				t.Fatal(err)
			}
			// Batched matrix products may round differently in the last bits.
			if one[0].Text != first[i].Text || math.Abs(one[0].Confidence-first[i].Confidence) > 1e-4 {
				t.Errorf("beam %d image %d: batched %q, alone %q", width, i, first[i].Text, one[0].Text)
			}
		}
		for _, c := range first {
			if n := len(splitWords(c.Text)); n > opt.MaxLen {
				t.Errorf("caption %q has %d words, max %d", c.Text, n, opt.MaxLen)
			}
			if c.Confidence > 0 || math.IsNaN(c.Confidence) {
				t.Errorf("confidence %v of %q, want a mean log-probability ≤ 0", c.Confidence, c.Text)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.captions(ctx, encs, BeamOptions{Width: 3, MaxLen: 8}); err == nil {
		t.Error("cancelled context: want an error")
	}
}

func names(infos []ort.InputOutputInfo) []string {
	out := make([]string, len(infos))
	for i, in := range infos {
		out[i] = in.Name
	}
	return out
}

func splitWords(s string) []string { return strings.Fields(s) }

// BenchmarkBeamSearch is the decoder alone per image (encoder output
// given), greedy and beam 3, batch 1, one ONNX Runtime thread (the default
// session options), for the model card's "beam search adds at most half the
// encoder time". It decodes the five committed photos in turn, so the
// figure is an average over captions of different lengths, not one
// photo's.
func BenchmarkBeamSearch(b *testing.B) {
	c := newTestCaptioner(b, Options{IntraOpThreads: 1})
	bd, ok := c.decoder.(*beamDecoder)
	if !ok {
		b.Skip("no decoder in models/")
	}
	var imgs []image.Image
	for _, name := range []string{"dog.jpg", "eagle.jpg", "giraffe.jpg", "horses.jpg", "person.jpg"} {
		img, err := DecodeImage(readPhoto(b, name))
		if err != nil {
			b.Fatal(err)
		}
		imgs = append(imgs, img)
	}
	encs, err := c.EncodeImages(context.Background(), imgs)
	if err != nil {
		b.Fatal(err)
	}
	if bd.dec.needsDetector() {
		vecs, err := c.DetectorVectors(context.Background(), imgs)
		if err != nil {
			b.Fatal(err)
		}
		for i := range encs {
			encs[i].Detector = vecs[i]
		}
	}
	for _, width := range []int{1, 3} {
		b.Run(fmt.Sprintf("beam=%d", width), func(b *testing.B) {
			opt := bd.opt
			opt.Width = width
			cpu := processCPU()
			n := 0
			for b.Loop() {
				if _, err := bd.dec.captions(context.Background(), encs[n%len(encs):n%len(encs)+1], opt); err != nil {
					b.Fatal(err)
				}
				n++
			}
			reportCPU(b, cpu, b.N)
			b.ReportMetric(b.Elapsed().Seconds()*1e3/float64(b.N), "ms/img")
		})
	}
}
