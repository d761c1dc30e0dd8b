package captioner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Files of the word detectors (models/train/words.py), beside encoder.onnx.
const (
	wordsModelFile = "words.onnx"
	wordsListFile  = "words.txt"
)

// wordDetector predicts, from the encoder's pooled feature, the share of
// people who would use each of the common Flickr8k caption words for the
// photo (after Fang et al. 2015). Grounding reads it to check the decoder's
// words the object detector cannot see ("grass", "snow", "stick").
type wordDetector struct {
	words []string
	sess  *ort.DynamicAdvancedSession
}

// errNoWords means the model folder has no word detector.
var errNoWords = errors.New("no word detector in the model folder")

func loadWordDetector(dir string) (*wordDetector, error) {
	raw, err := os.ReadFile(filepath.Join(dir, wordsListFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoWords
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", wordsListFile, err)
	}
	w := &wordDetector{words: strings.Split(strings.TrimRight(string(raw), "\n"), "\n")}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("word detector session options: %w", err)
	}
	defer opts.Destroy()
	// One small matrix product per photo: threads cost more than they save.
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("word detector threads: %w", err)
	}
	w.sess, err = ort.NewDynamicAdvancedSession(filepath.Join(dir, wordsModelFile),
		[]string{"pooled"}, []string{"words"}, opts)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", wordsModelFile, err)
	}
	return w, nil
}

// probs returns word → probability for each of n pooled features.
func (w *wordDetector) probs(pooled []float32, n int) ([]map[string]float64, error) {
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(len(pooled)/n)), pooled)
	if err != nil {
		return nil, fmt.Errorf("word detector input: %w", err)
	}
	defer in.Destroy()
	outs := []ort.Value{nil}
	if err := w.sess.Run([]ort.Value{in}, outs); err != nil {
		return nil, fmt.Errorf("word detector: %w", err)
	}
	defer outs[0].Destroy()
	t, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, errors.New("word detector output is not float32")
	}
	data := t.GetData()
	if len(data) != n*len(w.words) {
		return nil, fmt.Errorf("word detector gives %d values for %d words", len(data)/max(n, 1), len(w.words))
	}
	res := make([]map[string]float64, n)
	for i := range res {
		m := make(map[string]float64, len(w.words))
		for j, word := range w.words {
			m[word] = float64(data[i*len(w.words)+j])
		}
		res[i] = m
	}
	return res, nil
}

func (w *wordDetector) close() error { return w.sess.Destroy() }
