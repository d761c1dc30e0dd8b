package captioner

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var updateEncoderRef = flag.Bool("update-encoder-ref", false,
	"rewrite testdata/encoder_ref.json from the encoder in models/ (only when its outputs are meant to change)")

// encoderRefFile holds the encoder's outputs for the sample photos, recorded
// from the original export (dynamic TF-SAME padding, sha256 3cc63bc6…0faf).
// A re-export of the same network must reproduce them.
const encoderRefFile = "testdata/encoder_ref.json"

// encoderRefStride subsamples spatial (62,720 values per photo) so the file
// stays small; pooled, its mean over the 7×7 positions, is kept whole.
const encoderRefStride = 97

// encoderRefTol is the largest difference allowed. Reordering the float
// sums (another padding scheme, another kernel) moves the outputs by a few
// 1e-6; a wrong pad or weight moves them by 1e-2 or more.
const encoderRefTol = 1e-4

type encoderRef struct {
	Photo   string    `json:"photo"`
	Pooled  []float32 `json:"pooled"`
	Spatial []float32 `json:"spatial_every_97th"`
	Scores  []float32 `json:"scores"`
}

// TestEncoderMatchesReference runs the sample photos through the committed
// encoder as one batch of 2 and compares every output with the reference.
func TestEncoderMatchesReference(t *testing.T) {
	c := newTestCaptioner(t, Options{})
	photos := []string{"dog.jpg", "eagle.jpg"}
	input := make([]float32, len(photos)*InputLen)
	for i, p := range photos {
		Preprocess(mustDecode(t, readPhoto(t, p)), input[i*InputLen:])
	}
	res, err := c.enc.run(context.Background(), input, len(photos))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]encoderRef, len(photos))
	for i, p := range photos {
		sp := res.spatial[i*res.spatialLen : (i+1)*res.spatialLen]
		var sub []float32
		for j := 0; j < len(sp); j += encoderRefStride {
			sub = append(sub, sp[j])
		}
		got[i] = encoderRef{
			Photo:   p,
			Pooled:  res.pooled[i*res.pooledLen : (i+1)*res.pooledLen],
			Spatial: sub,
			Scores:  res.scores[i*res.scoresLen : (i+1)*res.scoresLen],
		}
	}
	if *updateEncoderRef {
		raw, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.FromSlash(encoderRefFile), append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(filepath.FromSlash(encoderRefFile))
	if err != nil {
		t.Fatal(err)
	}
	var want []encoderRef
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("%s has %d photos, want %d", encoderRefFile, len(want), len(got))
	}
	for i := range want {
		for _, o := range []struct {
			name      string
			got, want []float32
		}{
			{"pooled", got[i].Pooled, want[i].Pooled},
			{"spatial", got[i].Spatial, want[i].Spatial},
			{"scores", got[i].Scores, want[i].Scores},
		} {
			if len(o.got) != len(o.want) {
				t.Errorf("%s %s: %d values, reference has %d", want[i].Photo, o.name, len(o.got), len(o.want))
				continue
			}
			worst, at := 0.0, 0
			for j := range o.want {
				if d := math.Abs(float64(o.got[j] - o.want[j])); d > worst || math.IsNaN(d) {
					worst, at = d, j
				}
			}
			t.Logf("%s %s: max abs difference %.2g", want[i].Photo, o.name, worst)
			if !(worst <= encoderRefTol) {
				t.Errorf("%s %s[%d] = %g, reference %g (tolerance %g)", want[i].Photo, o.name, at, o.got[at], o.want[at], encoderRefTol)
			}
		}
	}
}
