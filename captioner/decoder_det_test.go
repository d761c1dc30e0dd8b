package captioner

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
)

// testLabels are 80 class names c0..c79 with a few real ones.
func testLabels() []string {
	l := make([]string, detectorClasses)
	for i := range l {
		l[i] = fmt.Sprintf("c%d", i)
	}
	l[0], l[16], l[17] = "person", "dog", "cat"
	return l
}

func TestDetectorVector(t *testing.T) {
	labels := testLabels()
	obj := func(label string, score float64) bot.Object { return bot.Object{Label: label, Score: score} }
	for _, tc := range []struct {
		name string
		objs []bot.Object
		want map[int]float32 // index: value; every other value is 0
	}{
		{"none", nil, map[int]float32{}},
		{"best score and count per class", []bot.Object{obj("dog", 0.9), obj("person", 0.5), obj("dog", 0.3)},
			map[int]float32{16: 0.9, 80 + 16: 0.5, 0: 0.5, 80: 0.25}},
		{"weak evidence at the floor counts, below it not",
			[]bot.Object{obj("cat", DetectorVectorFloor), obj("person", DetectorVectorFloor-0.01)},
			map[int]float32{17: DetectorVectorFloor, 80 + 17: 0.25}},
		{"count saturates", []bot.Object{obj("person", 0.8), obj("person", 0.7), obj("person", 0.6),
			obj("person", 0.5), obj("person", 0.4), obj("person", 0.3)}, map[int]float32{0: 0.8, 80: 1}},
		{"unknown labels are ignored", []bot.Object{obj("unicorn", 0.99)}, map[int]float32{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := make([]float32, DetectorVectorLen)
			for i, v := range tc.want {
				want[i] = v
			}
			if diff := cmp.Diff(want, DetectorVector(tc.objs, labels)); diff != "" {
				t.Errorf("DetectorVector (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDetectorVectorAtHigherFloor(t *testing.T) {
	labels := testLabels()
	objs := []bot.Object{{Label: "dog", Score: 0.5}, {Label: "dog", Score: 0.3}, {Label: "cat", Score: 0.3}}
	want := make([]float32, DetectorVectorLen)
	want[16], want[80+16] = 0.5, 0.25
	if diff := cmp.Diff(want, DetectorVectorAt(objs, labels, DetectorMinScore)); diff != "" {
		t.Errorf("DetectorVectorAt(%v) (-want +got):\n%s", DetectorMinScore, diff)
	}
}

// The detector decodes down to DetectorVectorFloor for the decoder; users
// must still see exactly what decoding at DetectorMinScore gives.
func TestShownObjectsEqualDecodingAtMinScore(t *testing.T) {
	const size = 320
	labels := testLabels()
	rng := rand.New(rand.NewSource(3))
	g := inputGeometry{w: 640, h: 480, scaleX: 0.5, scaleY: 320.0 / 480}
	for trial := range 20 {
		points := detectorPoints(size)
		scores := make([]float32, points*detectorClasses)
		for i := range scores {
			if rng.Intn(2000) == 0 {
				scores[i] = rng.Float32() // a few points above the floors, many between them
			} else {
				scores[i] = rng.Float32() * 0.1
			}
		}
		boxes := make([]float32, points*detectorBoxLen)
		for i := range boxes {
			boxes[i] = rng.Float32()*4 - 2
		}
		want := decodeDetections(scores, boxes, labels, size, g, DetectorMinScore, DetectorMaxObjects)
		all := decodeDetections(scores, boxes, labels, size, g, DetectorVectorFloor, DetectorMaxObjects)
		if len(all) <= len(want) {
			t.Fatalf("trial %d: the floor adds no detections (%d vs %d); the test needs weak ones", trial, len(all), len(want))
		}
		if diff := cmp.Diff(want, shownObjects(all)); diff != "" {
			t.Fatalf("trial %d: shown objects differ from decoding at DetectorMinScore (-want +got):\n%s", trial, diff)
		}
	}
}

// detDecoderDir is a tiny random decoder whose init takes the detector
// vector (models/train/tiny_decoder.py writes it).
const detDecoderDir = "testdata/decoder-det"

func TestDecoderTakesDetectorVector(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Skipf("ONNX Runtime not installed (run scripts/setup.sh): %v", err)
	}
	d, err := loadDecoder(detDecoderDir, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	if !d.needsDetector() || !slices.Equal(d.meta.Inputs, []string{"pooled", detectorVectorInput}) {
		t.Fatalf("inputs %v, want pooled and %s", d.meta.Inputs, detectorVectorInput)
	}
	rng := rand.New(rand.NewSource(1))
	pooled := make([]float32, 1280)
	for i := range pooled {
		pooled[i] = rng.Float32() * 2
	}
	enc := Encoding{Pooled: pooled}
	if _, err := d.captions(context.Background(), []Encoding{enc}, BeamOptions{Width: 3, MaxLen: 8}); err == nil {
		t.Error("an encoding without the detector vector: want an error")
	}
	dog, person := enc, enc
	dog.Detector = DetectorVector([]bot.Object{{Label: "dog", Score: 0.9}}, testLabels())
	person.Detector = DetectorVector([]bot.Object{{Label: "person", Score: 0.9}}, testLabels())
	in, err := d.inputs([]Encoding{dog, person})
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.runInit(in, 2)
	if err != nil {
		t.Fatal(err)
	}
	img := out[2] // the static image projection, 2 rows
	h := d.meta.Hidden
	if slices.Equal(img[:h], img[h:]) {
		t.Errorf("the same image with a dog or a person detected gives the same projection %v: the vector does not reach the graph", img[:h])
	}
	// Batched and alone agree.
	for _, e := range []Encoding{dog, person} {
		one, err := d.inputs([]Encoding{e})
		if err != nil {
			t.Fatal(err)
		}
		o, err := d.runInit(one, 1)
		if err != nil {
			t.Fatal(err)
		}
		row := img[:h]
		if e.Detector[0] != 0 {
			row = img[h:]
		}
		for i := range row {
			if d := row[i] - o[2][i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("batched projection %v, alone %v", row, o[2])
			}
		}
	}
	if _, err := d.captions(context.Background(), []Encoding{dog, person}, BeamOptions{Width: 3, MaxLen: 8}); err != nil {
		t.Errorf("captions with the vector: %v", err)
	}
}

// detModelDir is a model folder with the committed encoder (and, when
// withDetector, the detector) and the tiny decoder that takes the detector
// vector.
func detModelDir(t *testing.T, withDetector bool) string {
	t.Helper()
	models, err := DefaultModelDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := FindRuntimeLibrary(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	dir := t.TempDir()
	link := []string{EncoderFile, LabelsFile}
	if withDetector {
		link = append(link, DetectorFile, DetectorLabelsFile)
	}
	for _, f := range link {
		abs, err := filepath.Abs(filepath.Join(models, f))
		if err != nil {
			t.Fatal(err)
		}
		if !isFile(abs) {
			t.Skipf("skipping: no %s", abs)
		}
		if err := os.Symlink(abs, filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{decoderMetaFile, decoderInitFile, decoderStepFile, vocabFile} {
		b, err := os.ReadFile(filepath.Join(detDecoderDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestNewWithDetectorVectorDecoder(t *testing.T) {
	if _, err := New(Options{ModelDir: detModelDir(t, false)}); !errors.Is(err, ErrNoDetector) {
		t.Errorf("a decoder that takes the detector vector without detector.onnx: error %v, want ErrNoDetector", err)
	}
	c, err := New(Options{ModelDir: detModelDir(t, true)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	d, err := c.Describe(context.Background(), readPhoto(t, "dog.jpg"))
	if err != nil {
		t.Fatalf("Describe feeds the decoder the detector vector: %v", err)
	}
	for _, o := range d.Objects {
		if o.Score < DetectorMinScore {
			t.Errorf("object %+v below DetectorMinScore shown", o)
		}
	}
	// The batched path gives the decoder the same vector and shows the same objects.
	descs, errs := c.DescribeBatch(context.Background(), [][]byte{readPhoto(t, "dog.jpg")})
	if errs[0] != nil {
		t.Fatalf("DescribeBatch with the detector-vector decoder: %v", errs[0])
	}
	if got := descs[0]; got.RawCaption != d.RawCaption || !slices.Equal(got.Objects, d.Objects) {
		t.Errorf("batched: raw %q, objects %v; alone: raw %q, objects %v", got.RawCaption, got.Objects, d.RawCaption, d.Objects)
	}
}
