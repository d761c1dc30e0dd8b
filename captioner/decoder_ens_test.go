package captioner

import (
	"context"
	"math"
	"math/rand"
	"path/filepath"
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// ensDecoderDir holds two tiny random merge decoders (m1, m2, written by
// models/train/tiny_decoder.py --plain) and the ensembles of the two that
// models/convert/ensemble.py joins (prob, logprob), with the single
// decoder's interface and the members' states side by side.
const ensDecoderDir = "testdata/decoder-ens"

func loadTestDecoder(t *testing.T, dir string) *decoder {
	t.Helper()
	d, err := loadDecoder(dir, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.close() })
	return d
}

// runStep runs the step graph once on n rows: tokens, then h, c and the
// static tensors (state, n rows each); it returns logprobs, h_out and c_out.
func runStep(t *testing.T, d *decoder, tokens []int64, state [][]float32) (logp, h, c []float32) {
	t.Helper()
	n := int64(len(tokens))
	tok, err := ort.NewTensor(ort.NewShape(n), tokens)
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Destroy()
	ins := []ort.Value{tok}
	for i, s := range state {
		shape := ort.NewShape(n, int64(d.meta.Hidden))
		if i >= 2 {
			shape = slices.Clone(d.staticDims[i-2])
			shape[0] = n
		}
		v, err := ort.NewTensor(shape, s)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Destroy()
		ins = append(ins, v)
	}
	outs := make([]ort.Value, 3)
	if err := d.step.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	data := make([][]float32, 3)
	for i, v := range outs {
		data[i] = slices.Clone(v.(*ort.Tensor[float32]).GetData())
		v.Destroy()
	}
	return data[0], data[1], data[2]
}

// sideBySide joins the members' rows: row r of the result is row r of
// every member in turn.
func sideBySide(parts [][]float32, rows int) []float32 {
	var out []float32
	for r := range rows {
		for _, p := range parts {
			w := len(p) / rows
			out = append(out, p[r*w:(r+1)*w]...)
		}
	}
	return out
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Fatalf("%s[%d] = %v, want %v (±%g)", what, i, got[i], want[i], tol)
		}
	}
}

func TestEnsembleDecoderCombinesMembers(t *testing.T) {
	if _, err := InitRuntime(""); err != nil {
		t.Skipf("ONNX Runtime not installed (run scripts/setup.sh): %v", err)
	}
	members := []*decoder{
		loadTestDecoder(t, filepath.Join(ensDecoderDir, "m1")),
		loadTestDecoder(t, filepath.Join(ensDecoderDir, "m2")),
	}
	const n = 2
	rng := rand.New(rand.NewSource(1))
	pooled := make([]float32, n*1280)
	for i := range pooled {
		pooled[i] = rng.Float32() * 2
	}
	feats := [][]float32{pooled}
	// Two steps of each member on its own: <start>, then one word per row.
	type run struct{ init, logp [][]float32 }
	alone := make([]run, len(members))
	vocab := len(members[0].vocab)
	for k, m := range members {
		st, err := m.runInit(feats, n)
		if err != nil {
			t.Fatal(err)
		}
		alone[k].init = st
		lp, h, c := runStep(t, m, []int64{int64(m.start), int64(m.start)}, st)
		alone[k].logp = append(alone[k].logp, lp)
		lp, _, _ = runStep(t, m, []int64{4, 5}, append([][]float32{h, c}, st[2:]...))
		alone[k].logp = append(alone[k].logp, lp)
	}
	for _, combine := range []string{"prob", "logprob"} {
		t.Run(combine, func(t *testing.T) {
			e := loadTestDecoder(t, filepath.Join(ensDecoderDir, combine))
			if want := members[0].meta.Hidden + members[1].meta.Hidden; e.meta.Hidden != want {
				t.Fatalf("hidden %d, want %d (the members side by side)", e.meta.Hidden, want)
			}
			st, err := e.runInit(feats, n)
			if err != nil {
				t.Fatal(err)
			}
			for i := range st {
				closeTo(t, e.initOut[i], st[i], sideBySide([][]float32{alone[0].init[i], alone[1].init[i]}, n), 1e-6)
			}
			lp, h, c := runStep(t, e, []int64{int64(e.start), int64(e.start)}, st)
			lps := [][]float32{lp}
			lp, _, _ = runStep(t, e, []int64{4, 5}, append([][]float32{h, c}, st[2:]...))
			lps = append(lps, lp)
			for s, got := range lps {
				want := make([]float32, len(got))
				for r := range n {
					row := want[r*vocab : (r+1)*vocab]
					var norm float64 // logprob: the geometric means' sum
					for w := range row {
						a, b := float64(alone[0].logp[s][r*vocab+w]), float64(alone[1].logp[s][r*vocab+w])
						if combine == "prob" {
							row[w] = float32(math.Log((math.Exp(a) + math.Exp(b)) / 2))
						} else {
							row[w] = float32((a + b) / 2)
							norm += math.Exp((a + b) / 2)
						}
					}
					if combine == "logprob" {
						for w := range row {
							row[w] -= float32(math.Log(norm))
						}
					}
				}
				closeTo(t, "logprobs", got, want, 1e-5)
			}
			a, err := e.captions(context.Background(), []Encoding{{Pooled: pooled[:1280]}}, BeamOptions{Width: 3, MaxLen: 8})
			if err != nil {
				t.Fatal(err)
			}
			b, err := e.captions(context.Background(), []Encoding{{Pooled: pooled[:1280]}, {Pooled: pooled[1280:]}}, BeamOptions{Width: 3, MaxLen: 8})
			if err != nil {
				t.Fatal(err)
			}
			if a[0].Text != b[0].Text || math.Abs(a[0].Confidence-b[0].Confidence) > 1e-5 {
				t.Errorf("alone %+v, in a batch %+v", a[0], b[0])
			}
		})
	}
}
