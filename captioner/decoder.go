package captioner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/captionbot/captionbot/captioner/ground"
)

// Files of the exported LSTM decoder, beside encoder.onnx (see models/train/export.py).
const (
	decoderInitFile = "decoder_init.onnx"
	decoderStepFile = "decoder_step.onnx"
	decoderMetaFile = "decoder.json"
	vocabFile       = "vocab.txt"
)

// Sentence is a decoded sentence and its confidence, the mean log-probability
// per token (≤ 0; closer to 0 is surer).
type Sentence struct {
	Text       string
	Confidence float64
}

// ErrNoDecoder is returned when the model folder has no caption decoder.
var ErrNoDecoder = errors.New("no caption decoder in the model folder")

// decoderMeta is decoder.json, written by the exporter.
type decoderMeta struct {
	Kind  string `json:"kind"`
	Input string `json:"input"` // encoder output the init graph takes: "pooled" or "spatial"
	// Inputs are the init graph's inputs in order, Input first; absent:
	// just Input. "detvec" is the detector vector (DetectorVector).
	Inputs    []string `json:"inputs,omitempty"`
	Static    []string `json:"static"` // per-image init outputs the step graph takes
	Hidden    int      `json:"hidden"`
	VocabSize int      `json:"vocab_size"`
	MaxLen    int      `json:"max_len"`
}

// decoder runs the two decoder graphs: init once per image, step once per
// word for every live beam of every image in a batch. ONNX Runtime sessions
// are safe for concurrent Run calls with distinct tensors, so one pair of
// sessions serves every caller.
type decoder struct {
	meta       decoderMeta
	vocab      []string
	start, end int
	pad, unk   int
	// openEnd marks the words a caption cannot end on ("on a red"): after
	// them <end> is not a candidate, except at the last step.
	openEnd    []bool
	init, step *ort.DynamicAdvancedSession
	initOut    []string // h, c, static...
	stepIn     []string // tokens, h, c, static...
	staticDims [][]int64
}

// markOpenEnds sets openEnd from the vocabulary (ground.CannotEnd).
func (d *decoder) markOpenEnds() {
	d.openEnd = make([]bool, len(d.vocab))
	for i, w := range d.vocab {
		d.openEnd[i] = ground.CannotEnd(w)
	}
}

// loadDecoder opens the decoder graphs in dir. It returns ErrNoDecoder when
// the files are absent; the ONNX Runtime environment must be initialised.
// The step graph's matrices are small (a few beams × the hidden size), so
// thread hand-offs cost more than they save: intraOpThreads 0 means one.
// spin is Options.SpinWait.
func loadDecoder(dir string, intraOpThreads int, spin bool) (*decoder, error) {
	raw, err := os.ReadFile(filepath.Join(dir, decoderMetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoDecoder
	}
	if err != nil {
		return nil, fmt.Errorf("read decoder metadata: %w", err)
	}
	var meta decoderMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("parse %s: %w", decoderMetaFile, err)
	}
	if meta.Input != "pooled" && meta.Input != "spatial" {
		return nil, fmt.Errorf("%s: unknown decoder input %q", decoderMetaFile, meta.Input)
	}
	if len(meta.Inputs) == 0 {
		meta.Inputs = []string{meta.Input}
	}
	if meta.Inputs[0] != meta.Input {
		return nil, fmt.Errorf("%s: inputs %v do not start with input %q", decoderMetaFile, meta.Inputs, meta.Input)
	}
	for _, in := range meta.Inputs[1:] {
		if in != detectorVectorInput {
			return nil, fmt.Errorf("%s: unknown decoder input %q", decoderMetaFile, in)
		}
	}
	vocabRaw, err := os.ReadFile(filepath.Join(dir, vocabFile))
	if err != nil {
		return nil, fmt.Errorf("read vocabulary: %w", err)
	}
	d := &decoder{meta: meta, vocab: strings.Split(strings.TrimRight(string(vocabRaw), "\n"), "\n")}
	if len(d.vocab) != meta.VocabSize {
		return nil, fmt.Errorf("%s has %d words, the decoder expects %d", vocabFile, len(d.vocab), meta.VocabSize)
	}
	ids := map[string]*int{"<start>": &d.start, "<end>": &d.end, "<pad>": &d.pad, "<unk>": &d.unk}
	for w, p := range ids {
		i := slices.Index(d.vocab, w)
		if i < 0 {
			return nil, fmt.Errorf("%s lacks %s", vocabFile, w)
		}
		*p = i
	}
	d.markOpenEnds()
	d.initOut = append([]string{"h", "c"}, meta.Static...)
	d.stepIn = append([]string{"tokens", "h", "c"}, meta.Static...)
	initPath, stepPath := filepath.Join(dir, decoderInitFile), filepath.Join(dir, decoderStepFile)
	_, outs, err := ort.GetInputOutputInfo(initPath)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", decoderInitFile, err)
	}
	for _, name := range meta.Static {
		i := slices.IndexFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("%s has no output %q", decoderInitFile, name)
		}
		d.staticDims = append(d.staticDims, outs[i].Dimensions)
	}
	opts, err := newSessionOptions(max(intraOpThreads, 1), spin)
	if err != nil {
		return nil, fmt.Errorf("decoder %w", err)
	}
	defer opts.Destroy()
	if d.init, err = ort.NewDynamicAdvancedSession(initPath, meta.Inputs, d.initOut, opts); err != nil {
		return nil, fmt.Errorf("load %s: %w", decoderInitFile, err)
	}
	d.step, err = ort.NewDynamicAdvancedSession(stepPath, d.stepIn, []string{"logprobs", "h_out", "c_out"}, opts)
	if err != nil {
		d.init.Destroy()
		return nil, fmt.Errorf("load %s: %w", decoderStepFile, err)
	}
	return d, nil
}

func (d *decoder) close() error {
	return errors.Join(d.init.Destroy(), d.step.Destroy())
}

// detectorVectorInput names the init input that takes the detector vector.
const detectorVectorInput = "detvec"

// needsDetector reports whether the init graph takes the detector vector.
func (d *decoder) needsDetector() bool { return slices.Contains(d.meta.Inputs, detectorVectorInput) }

// inputs returns the init graph's inputs for a batch, one slice of n rows
// per decoderMeta.Inputs.
func (d *decoder) inputs(encs []Encoding) ([][]float32, error) {
	out := make([][]float32, len(d.meta.Inputs))
	for i, name := range d.meta.Inputs {
		for _, e := range encs {
			var v []float32
			switch name {
			case "pooled":
				v = e.Pooled
			case "spatial":
				v = e.Spatial
			case detectorVectorInput:
				if len(e.Detector) != DetectorVectorLen {
					return nil, fmt.Errorf("the decoder needs the detector vector: an encoding has %d values, want %d", len(e.Detector), DetectorVectorLen)
				}
				v = e.Detector
			}
			out[i] = append(out[i], v...)
		}
	}
	return out, nil
}

// captions decodes a batch of encodings into sentences.
func (d *decoder) captions(ctx context.Context, encs []Encoding, opt BeamOptions) ([]Sentence, error) {
	if len(encs) == 0 {
		return nil, nil
	}
	in, err := d.inputs(encs)
	if err != nil {
		return nil, err
	}
	res, err := d.beamSearch(ctx, in, len(encs), opt)
	if err != nil {
		return nil, err
	}
	out := make([]Sentence, len(res))
	for i, r := range res {
		out[i] = Sentence{Text: d.words(r.ids), Confidence: r.confidence}
	}
	return out, nil
}

// words turns token ids into the caption text, dropping special tokens.
func (d *decoder) words(ids []int) string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id == d.end {
			break
		}
		if id == d.start || id == d.pad {
			continue
		}
		out = append(out, d.vocab[id])
	}
	return strings.Join(out, " ")
}

// runInit runs the init graph on n images (feats holds n rows of each of
// decoderMeta.Inputs) and returns h, c and the static tensors' data, each n
// rows.
func (d *decoder) runInit(feats [][]float32, n int) ([][]float32, error) {
	ins := make([]ort.Value, len(feats))
	for i, feat := range feats {
		var shape ort.Shape
		if d.meta.Inputs[i] == "spatial" {
			shape = ort.NewShape(int64(n), 7, 7, int64(len(feat)/n/49))
		} else {
			shape = ort.NewShape(int64(n), int64(len(feat)/n))
		}
		in, err := ort.NewTensor(shape, feat)
		if err != nil {
			return nil, fmt.Errorf("decoder input %s: %w", d.meta.Inputs[i], err)
		}
		defer in.Destroy()
		ins[i] = in
	}
	outs := make([]ort.Value, len(d.initOut))
	if err := d.init.Run(ins, outs); err != nil {
		return nil, fmt.Errorf("decoder init: %w", err)
	}
	data := make([][]float32, len(outs))
	for i, v := range outs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("decoder init output %s is not float32", d.initOut[i])
		}
		data[i] = t.GetData()
		defer v.Destroy()
	}
	return data, nil
}

// beamDecoder plugs the decoder into Captioner with its search options.
type beamDecoder struct {
	dec *decoder
	opt BeamOptions
}

var _ captionDecoder = (*beamDecoder)(nil)

func (b *beamDecoder) decode(ctx context.Context, enc Encoding) (string, float64, error) {
	caps, err := b.dec.captions(ctx, []Encoding{enc}, b.opt)
	if err != nil {
		return "", 0, err
	}
	return caps[0].Text, caps[0].Confidence, nil
}

func (b *beamDecoder) close() error { return b.dec.close() }

// CaptionEncodings decodes a batch of encodings at once (beams of every
// image run in one step batch). It returns ErrNoDecoder when no decoder is
// loaded.
func (c *Captioner) CaptionEncodings(ctx context.Context, encs []Encoding) ([]Sentence, error) {
	b, ok := c.decoder.(*beamDecoder)
	if !ok {
		return nil, ErrNoDecoder
	}
	return b.dec.captions(ctx, encs, b.opt)
}
