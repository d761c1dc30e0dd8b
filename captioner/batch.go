package captioner

import (
	"context"
	"fmt"
	"image"
	"sync"
	"time"

	"github.com/captionbot/captionbot/bot"
)

// DescribeBatch describes several photos at once: each is decoded and
// preprocessed on its own (the decode budget applies per photo, and a
// photo's pixels are released as soon as both networks have their input),
// then the encoder runs the whole batch as one tensor (in runs of up to
// MaxBatch), the word detectors take the batch's pooled features at once,
// and one beam search decodes every photo's beams together. The detector
// keeps its fixed batch-1 input and runs per photo, at the same time as the
// other photos' decodes.
//
// Each photo keeps its own error (errs[i], a bot sentinel for a bad photo
// as Describe gives): one bad photo never fails the others. The captions are
// those Describe gives one photo at a time. Timings are per photo: decode
// and detector its own, encoder and decoder the batch run's share (the run's
// duration divided by the photos in it), Total from the batch's start.
func (c *Captioner) DescribeBatch(ctx context.Context, photos [][]byte) ([]bot.Description, []error) {
	start := time.Now()
	descs := make([]bot.Description, len(photos))
	errs := make([]error, len(photos))
	inputs := make([]float32, len(photos)*InputLen)
	sizes := make([]image.Point, len(photos))
	prepTimes := make([]time.Duration, len(photos))
	detvecs := make([][]float32, len(photos)) // the detector vector a decoder may need (DetectorVector)

	var wg sync.WaitGroup
	for i, data := range photos {
		wg.Go(func() {
			sizes[i], prepTimes[i], errs[i] = c.prepareBatched(ctx, data, inputs[i*InputLen:(i+1)*InputLen], &descs[i], &detvecs[i])
		})
	}
	wg.Wait()

	ok := described(errs) // the photos that decoded
	if len(ok) == 0 {
		return descs, errs
	}
	encs := make([]Encoding, len(photos))
	batch := make([]float32, 0, min(len(ok), MaxBatch)*InputLen)
	for s := 0; s < len(ok); s += MaxBatch {
		idx := ok[s:min(s+MaxBatch, len(ok))]
		batch = batch[:0]
		for _, i := range idx {
			batch = append(batch, inputs[i*InputLen:(i+1)*InputLen]...)
		}
		got, runTime, err := c.encode(ctx, batch, len(idx))
		for j, i := range idx {
			if err != nil {
				errs[i] = err
				continue
			}
			encs[i] = got[j]
			encs[i].Detector = detvecs[i]
			descs[i].Labels = got[j].Labels
			descs[i].EncoderTime = prepTimes[i] + runTime/time.Duration(len(idx))
		}
	}
	inputs = nil // the batch copies are in encs now

	ok = described(errs) // the photos that were encoded too
	if len(ok) == 0 {
		return descs, errs
	}
	okEncs := make([]Encoding, len(ok))
	for j, i := range ok {
		okEncs[j] = encs[i]
	}
	if c.decoder != nil {
		decStart := time.Now()
		sents, err := c.decodeBatch(ctx, okEncs)
		share := time.Since(decStart) / time.Duration(len(ok))
		for j, i := range ok {
			if err != nil {
				errs[i] = fmt.Errorf("caption: %w", err)
				continue
			}
			descs[i].RawCaption, descs[i].Confidence = sents[j].Text, sents[j].Confidence
			descs[i].DecoderTime = share
		}
	}
	var words []map[string]float64
	if c.words != nil {
		pooled := make([]float32, 0, len(ok)*len(okEncs[0].Pooled))
		for _, e := range okEncs {
			pooled = append(pooled, e.Pooled...)
		}
		var err error
		if words, err = c.words.probs(pooled, len(ok)); err != nil {
			for _, i := range ok {
				errs[i] = err
			}
			return descs, errs
		}
	}
	for j, i := range ok {
		if errs[i] != nil {
			continue
		}
		var w map[string]float64
		if words != nil {
			w = words[j]
		}
		c.groundWith(&descs[i], w, sizes[i])
		descs[i].Total = time.Since(start)
	}
	return descs, errs
}

// prepareBatched decodes one photo of a batch, preprocesses it into input
// and runs the detector on it, then releases its pixels. It fills d's
// objects and decode and detector times, and returns the photo's size in
// its original pixels and the preprocessing time.
func (c *Captioner) prepareBatched(ctx context.Context, data []byte, input []float32, d *bot.Description, detvec *[]float32) (image.Point, time.Duration, error) {
	start := time.Now()
	img, release, err := decodeImageContext(ctx, data, DescribeMinSide)
	d.DecodeTime = time.Since(start)
	if err != nil {
		return image.Point{}, 0, err
	}
	defer release()
	detected := c.startDetect(ctx, img)
	prepStart := time.Now()
	Preprocess(img, input)
	prepTime := time.Since(prepStart)
	allObjs, detTime, detErr := detected()
	if err := ctx.Err(); err != nil {
		return image.Point{}, 0, err
	}
	if detErr != nil {
		return image.Point{}, 0, fmt.Errorf("detect objects: %w", detErr)
	}
	objs, vec, size := c.placeDetections(data, img, allObjs)
	*detvec = vec
	d.Objects, d.DetectorTime = objs, detTime
	return size, prepTime, nil
}

// described is the indexes of the photos without an error so far.
func described(errs []error) []int {
	var ok []int
	for i, err := range errs {
		if err == nil {
			ok = append(ok, i)
		}
	}
	return ok
}

// decodeBatch captions encodings in one beam search when the decoder can
// (the LSTM decoder), else one at a time.
func (c *Captioner) decodeBatch(ctx context.Context, encs []Encoding) ([]Sentence, error) {
	if b, ok := c.decoder.(*beamDecoder); ok {
		return b.dec.captions(ctx, encs, b.opt)
	}
	out := make([]Sentence, len(encs))
	for i, e := range encs {
		text, conf, err := c.decoder.decode(ctx, e)
		if err != nil {
			return nil, err
		}
		out[i] = Sentence{Text: text, Confidence: conf}
	}
	return out, nil
}
