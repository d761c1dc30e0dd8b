package captioner

import (
	"context"
	"fmt"
	"math"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
)

// BeamOptions tune the decoder's search.
type BeamOptions struct {
	// Width is the number of beams per image; 1 is greedy decoding.
	Width int
	// MaxLen is the most words in a caption.
	MaxLen int
	// LengthAlpha normalises a finished caption's score by len^alpha
	// (0 = raw log-probability, which favours short captions; 1 = mean).
	LengthAlpha float64
	// NoRepeatTrigram forbids a word that would repeat a trigram.
	NoRepeatTrigram bool
}

// decoded is one image's caption.
type decoded struct {
	ids        []int
	logProb    float64 // sum over the words and the end token
	confidence float64 // mean log-probability per token
}

// hypothesis is one live beam of one image.
type hypothesis struct {
	ids   []int
	score float64
}

type candidate struct {
	score  float64
	parent int // beam index within the image
	word   int
}

// beamSearch decodes n images at once. feats holds n rows of each of the
// decoder's init inputs (see decoderMeta.Inputs). Every image keeps exactly Width rows in the
// step batch, so the per-image static tensors never need reordering; only
// h and c are gathered by parent beam after each step. The search is
// deterministic: ties break on beam index, then word id.
func (d *decoder) beamSearch(ctx context.Context, feats [][]float32, n int, opt BeamOptions) ([]decoded, error) {
	k := max(opt.Width, 1)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = d.meta.MaxLen
	}
	init, err := d.runInit(feats, n)
	if err != nil {
		return nil, err
	}
	rows := n * k
	hid := d.meta.Hidden
	vocab := len(d.vocab)

	// Step inputs: tokens, h, c, then static tensors repeated per beam.
	tokens := make([]int64, rows)
	tokT, err := ort.NewTensor(ort.NewShape(int64(rows)), tokens)
	if err != nil {
		return nil, err
	}
	defer tokT.Destroy()
	hIn, cIn := repeatRows(init[0], n, k), repeatRows(init[1], n, k)
	hT, err := ort.NewTensor(ort.NewShape(int64(rows), int64(hid)), hIn)
	if err != nil {
		return nil, err
	}
	defer hT.Destroy()
	cT, err := ort.NewTensor(ort.NewShape(int64(rows), int64(hid)), cIn)
	if err != nil {
		return nil, err
	}
	defer cT.Destroy()
	inputs := []ort.Value{tokT, hT, cT}
	for i, dims := range d.staticDims {
		shape := slices.Clone(dims)
		shape[0] = int64(rows)
		t, err := ort.NewTensor(ort.Shape(shape), repeatRows(init[2+i], n, k))
		if err != nil {
			return nil, err
		}
		defer t.Destroy()
		inputs = append(inputs, t)
	}
	// Step outputs, allocated once and reused every step.
	logT, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(rows), int64(vocab)))
	if err != nil {
		return nil, err
	}
	defer logT.Destroy()
	hOutT, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(rows), int64(hid)))
	if err != nil {
		return nil, err
	}
	defer hOutT.Destroy()
	cOutT, err := ort.NewEmptyTensor[float32](ort.NewShape(int64(rows), int64(hid)))
	if err != nil {
		return nil, err
	}
	defer cOutT.Destroy()
	outputs := []ort.Value{logT, hOutT, cOutT}
	logp, hOut, cOut := logT.GetData(), hOutT.GetData(), cOutT.GetData()

	beams := make([][]hypothesis, n)
	spare := make([][]hypothesis, n) // each image's other beam list, reused step after step
	finished := make([][]decoded, n)
	done := make([]bool, n)
	for i := range beams {
		beams[i] = append(make([]hypothesis, 0, k), hypothesis{}) // one live beam at the first step
		spare[i] = make([]hypothesis, 0, k)
	}
	for r := range tokens {
		tokens[r] = int64(d.start)
	}
	cands := make([]candidate, 0, k*k)
	parents := make([]int, rows)
	for t := 0; t <= maxLen; t++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := d.step.Run(inputs, outputs); err != nil {
			return nil, fmt.Errorf("decoder step: %w", err)
		}
		for img := 0; img < n; img++ {
			if done[img] {
				for b := 0; b < k; b++ {
					parents[img*k+b] = img*k + b
				}
				continue
			}
			cands = cands[:0]
			for b, hyp := range beams[img] {
				row := logp[(img*k+b)*vocab : (img*k+b+1)*vocab]
				cands = d.expand(cands, row, hyp, b, k, t == maxLen, opt.NoRepeatTrigram)
			}
			slices.SortStableFunc(cands, compareCandidates)
			next := spare[img][:0]
			for _, c := range cands {
				if len(next) == k {
					break
				}
				parent := beams[img][c.parent]
				if c.word == d.end {
					if len(finished[img]) < k {
						L := float64(len(parent.ids) + 1)
						finished[img] = append(finished[img], decoded{
							ids: parent.ids, logProb: c.score, confidence: c.score / L,
						})
					}
					continue
				}
				ids := make([]int, len(parent.ids)+1)
				copy(ids, parent.ids)
				ids[len(parent.ids)] = c.word
				parents[img*k+len(next)] = img*k + c.parent
				tokens[img*k+len(next)] = int64(c.word)
				next = append(next, hypothesis{ids: ids, score: c.score})
			}
			// Rows without a live beam keep feeding <end>; their outputs are ignored.
			for b := len(next); b < k; b++ {
				parents[img*k+b] = img * k
				tokens[img*k+b] = int64(d.end)
			}
			beams[img], spare[img] = next, beams[img]
			if len(finished[img]) >= k || len(next) == 0 {
				done[img] = true
			}
		}
		if allTrue(done) {
			break
		}
		gatherRows(hIn, hOut, parents, hid)
		gatherRows(cIn, cOut, parents, hid)
	}
	out := make([]decoded, n)
	for img := range out {
		out[img] = pickBest(finished[img], beams[img], opt.LengthAlpha)
	}
	return out, nil
}

// expand adds the k best next words of one beam to cands. At the last step
// only <end> is allowed, so every caption ends within MaxLen words.
func (d *decoder) expand(cands []candidate, row []float32, hyp hypothesis, b, k int, last, noTrigram bool) []candidate {
	if last {
		return append(cands, candidate{score: hyp.score + float64(row[d.end]), parent: b, word: d.end})
	}
	var banned []int
	if noTrigram && len(hyp.ids) >= 2 {
		a, c := hyp.ids[len(hyp.ids)-2], hyp.ids[len(hyp.ids)-1]
		for i := 0; i+2 < len(hyp.ids); i++ {
			if hyp.ids[i] == a && hyp.ids[i+1] == c {
				banned = append(banned, hyp.ids[i+2])
			}
		}
	}
	openEnd := len(hyp.ids) > 0 && d.openEnd != nil && d.openEnd[hyp.ids[len(hyp.ids)-1]]
	// Keep the top k words of this row, best first, in cands[base:], with a
	// small insertion list: the vocabulary is a few thousand words and k is
	// small. Words come in increasing id, so once the list is full a word
	// that does not score strictly higher than its last entry loses (ties
	// break on word id); that one comparison rejects almost every word.
	base := len(cands)
	for w, lp := range row {
		score := hyp.score + float64(lp)
		if len(cands)-base == k && score <= cands[len(cands)-1].score {
			continue
		}
		if w == d.pad || w == d.start || w == d.unk || slices.Contains(banned, w) || w == d.end && openEnd {
			continue
		}
		top := cands[base:]
		i := 0
		for i < len(top) && top[i].score >= score {
			i++
		}
		if len(top) < k {
			cands = append(cands, candidate{})
			top = cands[base:]
		}
		copy(top[i+1:], top[i:len(top)-1])
		top[i] = candidate{score: score, parent: b, word: w}
	}
	return cands
}

// compareCandidates sorts candidates best first (see better).
func compareCandidates(a, b candidate) int {
	switch {
	case better(a, b):
		return -1
	case better(b, a):
		return 1
	}
	return 0
}

// better orders candidates by score, then beam, then word, for determinism.
func better(a, b candidate) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	if a.parent != b.parent {
		return a.parent < b.parent
	}
	return a.word < b.word
}

// pickBest returns the finished caption with the best length-normalised
// score; with none finished (cannot happen with MaxLen ≥ 0) the best live one.
func pickBest(finished []decoded, live []hypothesis, alpha float64) decoded {
	if len(finished) == 0 {
		if len(live) == 0 {
			return decoded{}
		}
		h := live[0]
		return decoded{ids: h.ids, logProb: h.score, confidence: h.score / float64(len(h.ids)+1)}
	}
	best, bestScore := 0, math.Inf(-1)
	for i, f := range finished {
		s := f.logProb / math.Pow(float64(len(f.ids)+1), alpha)
		if s > bestScore {
			best, bestScore = i, s
		}
	}
	return finished[best]
}

func repeatRows(src []float32, n, k int) []float32 {
	width := len(src) / n
	dst := make([]float32, 0, len(src)*k)
	for i := 0; i < n; i++ {
		for j := 0; j < k; j++ {
			dst = append(dst, src[i*width:(i+1)*width]...)
		}
	}
	return dst
}

// gatherRows sets dst row r to src row parents[r].
func gatherRows(dst, src []float32, parents []int, width int) {
	for r, p := range parents {
		copy(dst[r*width:(r+1)*width], src[p*width:(p+1)*width])
	}
}

func allTrue(s []bool) bool {
	for _, b := range s {
		if !b {
			return false
		}
	}
	return true
}
