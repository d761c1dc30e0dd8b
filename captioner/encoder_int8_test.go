package captioner

import (
	"cmp"
	"context"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

// int8Tol bounds how far the int8 encoder (models/encoder-int8.onnx) may
// move each output from the float encoder's on the sample photos, as the
// relative L2 error ‖int8 − float‖ / ‖float‖ of one photo's output. The
// worst of the five photos, measured 2026-12-02 on an AVX-512 VNNI Xeon
// (ONNX Runtime 1.24.1), was 0.195 (pooled), 0.313 (spatial) and 0.472
// (scores, all horses.jpg); the bounds are those plus about 15%. A build
// with one bad bias (an all-zero filter's bias overflowing int32) gave
// 0.296 on pooled and fails here.
var int8Tol = map[string]float64{"pooled": 0.22, "spatial": 0.36, "scores": 0.55}

// relL2 is ‖got − want‖ / ‖want‖.
func relL2(got, want []float32) float64 {
	var d, n float64
	for i := range want {
		e := float64(got[i] - want[i])
		d += e * e
		n += float64(want[i]) * float64(want[i])
	}
	return math.Sqrt(d / n)
}

// TestInt8EncoderMatchesFloat runs the sample photos through both encoders
// as one batch and checks the int8 one gives the same shapes, features
// within int8Tol of the float ones and the float one's top ImageNet class
// among its own top three (horses.jpg's top two, plow 0.19 and ox, swap).
func TestInt8EncoderMatchesFloat(t *testing.T) {
	dir, err := DefaultModelDir()
	if err != nil {
		t.Skipf("skipping: %v", err)
	}
	if !isFile(filepath.Join(dir, EncoderInt8File)) {
		t.Skipf("skipping: no %s in %s", EncoderInt8File, dir)
	}
	float := newTestCaptioner(t, Options{Sessions: 1, IntraOpThreads: 1})
	int8 := newTestCaptioner(t, Options{Sessions: 1, IntraOpThreads: 1, Encoder: EncoderInt8})
	photos := []string{"dog.jpg", "eagle.jpg", "giraffe.jpg", "horses.jpg", "person.jpg"}
	input := make([]float32, len(photos)*InputLen)
	for i, p := range photos {
		Preprocess(mustDecode(t, readPhoto(t, p)), input[i*InputLen:])
	}
	want, err := float.enc.run(context.Background(), input, len(photos))
	if err != nil {
		t.Fatal(err)
	}
	got, err := int8.enc.run(context.Background(), input, len(photos))
	if err != nil {
		t.Fatal(err)
	}
	if got.pooledLen != want.pooledLen || got.spatialLen != want.spatialLen || got.scoresLen != want.scoresLen ||
		len(got.pooled) != len(want.pooled) || len(got.spatial) != len(want.spatial) || len(got.scores) != len(want.scores) {
		t.Fatalf("int8 output sizes %d/%d/%d per photo (%d/%d/%d in all), float %d/%d/%d (%d/%d/%d)",
			got.pooledLen, got.spatialLen, got.scoresLen, len(got.pooled), len(got.spatial), len(got.scores),
			want.pooledLen, want.spatialLen, want.scoresLen, len(want.pooled), len(want.spatial), len(want.scores))
	}
	for i, p := range photos {
		for _, o := range []struct {
			name      string
			got, want []float32
			n         int
		}{
			{"pooled", got.pooled, want.pooled, want.pooledLen},
			{"spatial", got.spatial, want.spatial, want.spatialLen},
			{"scores", got.scores, want.scores, want.scoresLen},
		} {
			g, w := o.got[i*o.n:(i+1)*o.n], o.want[i*o.n:(i+1)*o.n]
			e := relL2(g, w)
			t.Logf("%s %s: relative L2 error %.4f", p, o.name, e)
			if !(e <= int8Tol[o.name]) {
				t.Errorf("%s %s: relative L2 error %.4f, over %.2f", p, o.name, e, int8Tol[o.name])
			}
		}
		s := want.scores[i*want.scoresLen : (i+1)*want.scoresLen]
		q := got.scores[i*got.scoresLen : (i+1)*got.scoresLen]
		a := topK(s, 1)[0]
		if top := topK(q, 3); !slices.Contains(top, a) {
			t.Errorf("%s: float's top class %s (%.2f) is not in int8's top 3 %v", p, float.labels[a], s[a], top)
		}
	}
}

// topK is the indices of v's k largest values, largest first.
func topK(v []float32, k int) []int {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(v[b], v[a]) })
	return idx[:k]
}
