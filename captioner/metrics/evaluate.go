package metrics

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Errors for unusable input to Evaluate.
var (
	// ErrNoCandidates: there is nothing to score.
	ErrNoCandidates = errors.New("no candidate captions")
	// ErrNoReferences: an image has a candidate but no reference caption.
	ErrNoReferences = errors.New("no reference captions")
)

// Scores are corpus-level caption scores.
type Scores struct {
	// BLEU holds BLEU-1..4 (corpus level).
	BLEU [4]float64
	// METEOR aggregates each image's best-reference statistics over the
	// corpus, as the METEOR 1.5 jar does when pycocoevalcap asks it to EVAL.
	METEOR float64
	// ROUGEL and CIDErD are means of the per-image scores.
	ROUGEL float64
	CIDErD float64
	// Distinct is the number of different candidate captions (after
	// tokenisation) divided by the number of images: 1/Images when one
	// caption is used for every photo, 1 when every photo gets its own.
	Distinct float64
	// Images is the number of scored images.
	Images int
	// METEORModules names the matchers METEOR used, e.g. "exact+stem+synonym";
	// synonyms need WordNet.
	METEORModules string
	// CHAIR is object hallucination against the references.
	CHAIR CHAIR
}

// Evaluator scores captions. The zero value uses no WordNet; see
// DefaultEvaluator for one that loads it.
type Evaluator struct {
	// WordNet enables METEOR's synonym module; nil leaves exact and stem
	// matching only.
	WordNet *WordNet
}

var (
	defaultOnce sync.Once
	defaultEval Evaluator
)

// DefaultEvaluator returns an Evaluator with WordNet loaded from
// DefaultWordNetDir when it is installed there (once per process), and
// without synonyms otherwise.
func DefaultEvaluator() Evaluator {
	defaultOnce.Do(func() {
		if wn, err := LoadWordNet(DefaultWordNetDir); err == nil {
			defaultEval.WordNet = wn
		}
	})
	return defaultEval
}

// Evaluate scores cands (image -> caption) against refs (image -> human
// captions) with DefaultEvaluator. Only the images in cands are scored;
// each needs at least one reference.
func Evaluate(cands map[string]string, refs map[string][]string) (Scores, error) {
	return DefaultEvaluator().Evaluate(cands, refs)
}

// Evaluate scores cands against refs; see the package Evaluate.
func (e Evaluator) Evaluate(cands map[string]string, refs map[string][]string) (Scores, error) {
	if len(cands) == 0 {
		return Scores{}, ErrNoCandidates
	}
	images := make([]string, 0, len(cands))
	for img := range cands {
		images = append(images, img)
	}
	sort.Strings(images)

	candToks := make([][]string, len(images))
	refToks := make([][][]string, len(images))
	distinct := map[string]bool{}
	for k, img := range images {
		rs := refs[img]
		if len(rs) == 0 {
			return Scores{}, fmt.Errorf("image %q: %w", img, ErrNoReferences)
		}
		candToks[k] = Tokenize(cands[img])
		distinct[strings.Join(candToks[k], " ")] = true
		refToks[k] = make([][]string, len(rs))
		for j, r := range rs {
			refToks[k][j] = Tokenize(r)
		}
	}

	sc := Scores{Images: len(images), Distinct: float64(len(distinct)) / float64(len(images))}
	bleu := make([]bleuStats, len(images))
	var meteorTotal meteorStats
	ms := newMeteorScorer(e.WordNet)
	for k := range images {
		bleu[k] = bleuSentence(candToks[k], refToks[k])
		sc.ROUGEL += rougeL(candToks[k], refToks[k])
		meteorTotal.add(ms.best(candToks[k], refToks[k]))
	}
	sc.BLEU = corpusBLEU(bleu)
	sc.ROUGEL /= float64(len(images))
	sc.METEOR = meteorTotal.score()
	for _, c := range ciderD(candToks, refToks) {
		sc.CIDErD += c
	}
	sc.CIDErD /= float64(len(images))
	sc.CHAIR = ComputeCHAIR(cands, refs)
	sc.METEORModules = "exact+stem"
	if e.WordNet != nil {
		sc.METEORModules += "+synonym"
	}
	return sc, nil
}
