package captioner

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner/ground"
)

var _ bot.Describer = (*Captioner)(nil)

// ErrNoModel means the models folder (models/encoder.onnx) was not found.
var ErrNoModel = errors.New("model files not found: run captionbot from the repository " +
	"(which has models/encoder.onnx) or set captioner.model_dir in the config")

// Files in the models folder.
const (
	EncoderFile     = "encoder.onnx"
	EncoderInt8File = "encoder-int8.onnx" // Options.Encoder EncoderInt8
	LabelsFile      = "imagenet_labels.txt"
)

// Options.Encoder values: which copy of the encoder runs.
const (
	EncoderFloat = "float" // encoder.onnx, float32 (the default)
	EncoderInt8  = "int8"  // encoder-int8.onnx, int8 QDQ (models/README.md)
)

// encoderFile is the model file of an Options.Encoder value.
func encoderFile(kind string) (string, error) {
	switch kind {
	case "", EncoderFloat:
		return EncoderFile, nil
	case EncoderInt8:
		return EncoderInt8File, nil
	}
	return "", fmt.Errorf("encoder %q: want %q or %q", kind, EncoderFloat, EncoderInt8)
}

// Options configure a Captioner. Zero values mean the defaults given.
type Options struct {
	// ModelDir holds encoder.onnx and imagenet_labels.txt (and, when
	// present, the decoder and the object detector). Empty: DefaultModelDir.
	ModelDir string
	// RuntimeLibrary is the ONNX Runtime shared library; empty: see
	// FindRuntimeLibrary.
	RuntimeLibrary string
	// Encoder chooses the encoder's copy: EncoderFloat (empty means it) or
	// EncoderInt8, the quantized copy (faster; scores in models/README.md).
	Encoder string
	// Sessions is the number of encoder sessions, i.e. of images encoded
	// at the same time, and of detector sessions (0: AutoSessions).
	Sessions int
	// IntraOpThreads is ONNX Runtime's thread count per encoder session
	// (0: the cores shared out among the sessions, at least one each).
	// The decoder runs on one thread unless this is set.
	IntraOpThreads int
	// SpinWait lets ONNX Runtime's idle intra-op threads spin-wait for
	// work instead of sleeping (ONNX Runtime's own default). It only
	// matters with more than one thread per session, and then costs CPU
	// time other sessions and processes could use (models/README.md).
	SpinWait bool
	// OptimizedModelCache is a folder where ONNX Runtime's optimised copy
	// of the encoder is kept (written on first use, keyed by the model's
	// hash, the ONNX Runtime version and the CPU), so later loads skip graph
	// optimisation. Empty: no cache.
	OptimizedModelCache string
	// TopLabels is the number of ImageNet labels in a Description (default 5).
	TopLabels int
	// Beam is the caption decoder's beam width (default 3).
	Beam int
	// MaxLen is the longest caption in words (default 20).
	MaxLen int
	// LengthAlpha is the beam search's length normalisation: a finished
	// caption scores logP / len^LengthAlpha. Zero means DefaultLengthAlpha.
	LengthAlpha float64
	// Grounding holds the thresholds that check captions against the
	// detections and labels; zero values mean package ground's defaults.
	Grounding ground.Options
}

// DefaultLengthAlpha is the length normalisation chosen on the dev split
// (models/README.md).
const DefaultLengthAlpha = 0.7

// AutoSessions is the encoder session count Sessions 0 gives: one per
// core (GOMAXPROCS), at most 4, since each session holds its own copy of
// the model. On 2 cores two single-threaded sessions cost less CPU per photo
// than one session with two threads, and on idle cores encode more photos
// per second (models/README.md, speed).
func AutoSessions() int { return min(runtime.GOMAXPROCS(0), 4) }

func (o *Options) setDefaults() {
	if o.Sessions <= 0 {
		o.Sessions = AutoSessions()
	}
	if o.IntraOpThreads <= 0 {
		o.IntraOpThreads = max(runtime.GOMAXPROCS(0)/o.Sessions, 1)
	}
	if o.TopLabels <= 0 {
		o.TopLabels = 5
	}
	if o.Beam <= 0 {
		o.Beam = 3
	}
	if o.MaxLen <= 0 {
		o.MaxLen = 20
	}
	if o.LengthAlpha == 0 {
		o.LengthAlpha = DefaultLengthAlpha
	}
}

// DefaultModelDir finds models/ (with encoder.onnx in it) in the working
// directory or one of its parents, else next to the binary or in the
// binary's parent directory.
func DefaultModelDir() (string, error) {
	p, ok := findUp(filepath.Join("models", EncoderFile))
	if !ok {
		return "", ErrNoModel
	}
	return filepath.Dir(p), nil
}

// Captioner describes photos with the encoder (and, when loaded, the
// caption decoder). It is safe for concurrent use; Options.Sessions bounds
// how many images are encoded at once.
type Captioner struct {
	opts    Options
	enc     *encoder
	labels  []string // ImageNet class names; index 0 is "background"
	decoder captionDecoder
	det     *detector     // nil while models/detector.onnx is absent
	words   *wordDetector // nil while models/words.onnx is absent
	inputs  sync.Pool     // *[]float32 of InputLen, for Describe
}

// captionDecoder writes a caption from an image's encoding. It is the seam
// for the LSTM decoder (issue 3: decoder.go, beam.go): Captioner.decoder is
// nil while models/decoder_*.onnx are absent, and Describe then leaves
// Description.Caption empty.
type captionDecoder interface {
	decode(ctx context.Context, enc Encoding) (caption string, confidence float64, err error)
	close() error
}

// New loads the encoder and its labels from opts.ModelDir and initialises
// ONNX Runtime (see InitRuntime). Errors wrap ErrNoRuntime or ErrNoModel
// when those are missing.
func New(opts Options) (*Captioner, error) {
	decoderThreads := opts.IntraOpThreads // 0: one (see loadDecoder)
	opts.setDefaults()
	if opts.ModelDir == "" {
		dir, err := DefaultModelDir()
		if err != nil {
			return nil, err
		}
		opts.ModelDir = dir
	}
	encFile, err := encoderFile(opts.Encoder)
	if err != nil {
		return nil, err
	}
	encPath := filepath.Join(opts.ModelDir, encFile)
	if !isFile(encPath) {
		return nil, fmt.Errorf("%s does not exist: %w", encPath, ErrNoModel)
	}
	labels, err := readLabels(filepath.Join(opts.ModelDir, LabelsFile))
	if err != nil {
		return nil, err
	}
	if _, err := InitRuntime(opts.RuntimeLibrary); err != nil {
		return nil, err
	}
	enc, err := newEncoder(encPath, sessionConfig{
		sessions: opts.Sessions, threads: opts.IntraOpThreads, spin: opts.SpinWait, cacheDir: opts.OptimizedModelCache,
	})
	if err != nil {
		return nil, err
	}
	c := &Captioner{opts: opts, enc: enc, labels: labels}
	dec, err := loadDecoder(opts.ModelDir, decoderThreads, opts.SpinWait)
	switch {
	case errors.Is(err, ErrNoDecoder):
		// Labels only: Description.Caption stays empty.
	case err != nil:
		enc.close()
		return nil, err
	default:
		c.decoder = &beamDecoder{dec: dec, opt: BeamOptions{
			Width: opts.Beam, MaxLen: opts.MaxLen, LengthAlpha: opts.LengthAlpha, NoRepeatTrigram: true,
		}}
	}
	words, err := loadWordDetector(opts.ModelDir)
	switch {
	case errors.Is(err, errNoWords):
		// Grounding goes by the detector and the labels alone.
	case err != nil:
		c.Close()
		return nil, err
	default:
		c.words = words
	}
	det, err := loadDetector(opts.ModelDir, opts.Sessions, opts.IntraOpThreads)
	switch {
	case errors.Is(err, ErrNoDetector):
		// No objects: Description.Objects stays nil.
	case err != nil:
		c.Close()
		return nil, err
	default:
		c.det = det
	}
	if b, ok := c.decoder.(*beamDecoder); ok && b.dec.needsDetector() && c.det == nil {
		c.Close()
		return nil, fmt.Errorf("the caption decoder takes the object detector's vector, but %s is absent: %w", DetectorFile, ErrNoDetector)
	}
	return c, nil
}

// readLabels reads one class name per line; a line "German shepherd,
// German shepherd dog, alsatian" gives its first name.
func readLabels(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: %w", path, ErrNoModel)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var labels []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), ",")
		labels = append(labels, strings.TrimSpace(name))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return labels, nil
}

// Close releases the ONNX Runtime sessions. No call may be in flight.
func (c *Captioner) Close() error {
	var errs []error
	if c.det != nil {
		errs = append(errs, c.det.close())
	}
	if c.words != nil {
		errs = append(errs, c.words.close())
	}
	if c.decoder != nil {
		errs = append(errs, c.decoder.close())
	}
	errs = append(errs, c.enc.close())
	return errors.Join(errs...)
}

// Options returns the options in effect, defaults filled in.
func (c *Captioner) Options() Options { return c.opts }

// Encoding is the encoder's output for one image.
type Encoding struct {
	// Pooled is the global-average-pooled feature vector (1280 values).
	Pooled []float32
	// Spatial is the last feature map before pooling, 7×7×1280, HWC.
	Spatial []float32
	// Labels are the top Options.TopLabels ImageNet classes, best first
	// ("background" excluded).
	Labels []bot.Label
	// Detector is the detector vector (DetectorVector) a decoder
	// conditioned on the detector takes; Describe sets it when the detector
	// is loaded, EncodeImages leaves it nil (see DetectorVectors).
	Detector []float32
}

// EncodeImages runs the encoder on imgs, in batches of up to MaxBatch, and
// returns one Encoding per image, in order.
func (c *Captioner) EncodeImages(ctx context.Context, imgs []image.Image) ([]Encoding, error) {
	out := make([]Encoding, 0, len(imgs))
	for start := 0; start < len(imgs); start += MaxBatch {
		batch := imgs[start:min(start+MaxBatch, len(imgs))]
		input := make([]float32, len(batch)*InputLen)
		for i, img := range batch {
			Preprocess(img, input[i*InputLen:])
		}
		encs, _, err := c.encode(ctx, input, len(batch))
		if err != nil {
			return nil, err
		}
		out = append(out, encs...)
	}
	return out, nil
}

// encode runs the encoder on n preprocessed images. It also returns the
// run's duration, without the wait for a free session.
func (c *Captioner) encode(ctx context.Context, input []float32, n int) ([]Encoding, time.Duration, error) {
	res, err := c.enc.run(ctx, input, n)
	if err != nil {
		return nil, 0, err
	}
	if res.scoresLen != len(c.labels) {
		return nil, 0, fmt.Errorf("encoder gives %d class scores but %s has %d labels", res.scoresLen, LabelsFile, len(c.labels))
	}
	encs := make([]Encoding, n)
	for i := range encs {
		encs[i] = Encoding{
			Pooled:  res.pooled[i*res.pooledLen : (i+1)*res.pooledLen : (i+1)*res.pooledLen],
			Spatial: res.spatial[i*res.spatialLen : (i+1)*res.spatialLen : (i+1)*res.spatialLen],
			Labels:  topLabels(res.scores[i*res.scoresLen:(i+1)*res.scoresLen], c.labels, c.opts.TopLabels),
		}
	}
	return encs, res.runTime, nil
}

// topLabels returns the k best classes, skipping index 0 ("background").
func topLabels(scores []float32, names []string, k int) []bot.Label {
	idx := make([]int, 0, len(scores))
	for i := 1; i < len(scores); i++ {
		idx = append(idx, i)
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	labels := make([]bot.Label, 0, k)
	for _, i := range idx[:min(k, len(idx))] {
		labels = append(labels, bot.Label{Label: names[i], Score: float64(scores[i])})
	}
	return labels
}

// DescribeMinSide is the shortest side Describe lets a reduced JPEG decode
// (turbojpeg builds) come down to: above the detector's 320 and 1.7× the
// encoder's 224, so both still shrink it with their antialiasing filter. At
// 384 a 1024×768 photo decodes at 1/2 (512×384) instead of 5/8 (see the
// model card, Encoder, for what it costs in captions).
const DescribeMinSide = 384

// Describe decodes a photo, encodes it and returns its labels (and, when
// the decoder is loaded, its caption; when the detector is loaded, its
// objects) with timings. The detector runs at the same time as the encoder.
// Bad photos give errors wrapping bot's sentinels (bot.ErrNotImage and
// friends).
func (c *Captioner) Describe(ctx context.Context, data []byte) (bot.Description, error) {
	start := time.Now()
	// Both networks shrink the photo (to 224 and 320): a big JPEG may be
	// decoded at a reduced size (turbojpeg builds), its sides still at least
	// DescribeMinSide, and the detector's boxes are scaled back to the
	// original's pixels.
	img, release, err := decodeImageContext(ctx, data, DescribeMinSide)
	decodeTime := time.Since(start)
	if err != nil {
		return bot.Description{}, err
	}
	detected := c.startDetect(ctx, img)
	d, err := c.describeEncoded(ctx, img)
	allObjs, detTime, detErr := detected()
	objs, detvec, size := c.placeDetections(data, img, allObjs)
	// Both networks have their inputs. img is not used below, so the
	// collection release runs for a big photo can free it before the next
	// decode takes the budget.
	release()
	if err != nil {
		return bot.Description{}, err
	}
	if detErr != nil {
		return bot.Description{}, fmt.Errorf("detect objects: %w", detErr)
	}
	d.encoding.Detector = detvec
	d.Objects, d.DetectorTime, d.DecodeTime = objs, detTime, decodeTime
	if c.decoder != nil {
		decStart := time.Now()
		d.RawCaption, d.Confidence, err = c.decoder.decode(ctx, d.encoding)
		if err != nil {
			return bot.Description{}, fmt.Errorf("caption: %w", err)
		}
		d.DecoderTime = time.Since(decStart)
	}
	if err := c.ground(&d.Description, d.encoding, size); err != nil {
		return bot.Description{}, err
	}
	d.Total = time.Since(start)
	return d.Description, nil
}

// startDetect runs the detector on img beside the caller's work; the
// function it returns waits for the answer: the objects down to
// DetectorVectorFloor, the run's time, its error (none without a detector).
func (c *Captioner) startDetect(ctx context.Context, img image.Image) func() ([]bot.Object, time.Duration, error) {
	if c.det == nil {
		return func() ([]bot.Object, time.Duration, error) { return nil, 0, nil }
	}
	var (
		wg      sync.WaitGroup
		objs    []bot.Object
		detTime time.Duration
		detErr  error
	)
	wg.Go(func() { objs, detTime, detErr = c.det.detect(ctx, img) })
	return func() ([]bot.Object, time.Duration, error) {
		wg.Wait()
		return objs, detTime, detErr
	}
}

// placeDetections turns the detector's answer for img (decoded from data,
// maybe at a reduced size) into what a Description shows: the objects at
// DetectorMinScore or more with boxes in the original photo's pixels, the
// detector vector a decoder may take (nil without a detector), and the
// original photo's size.
func (c *Captioner) placeDetections(data []byte, img image.Image, all []bot.Object) ([]bot.Object, []float32, image.Point) {
	scale := originalScale(data, img)
	size := img.Bounds().Size()
	size = image.Pt(int(math.Round(float64(size.X)*scale)), int(math.Round(float64(size.Y)*scale)))
	var vec []float32
	if c.det != nil {
		vec = DetectorVector(all, c.det.labels)
	}
	objs := shownObjects(all)
	for i := range objs {
		for j := range objs[i].Box {
			objs[i].Box[j] = int(math.Round(float64(objs[i].Box[j]) * scale))
		}
	}
	return objs, vec, size
}

// ground sets d.Caption to the decoder's sentence checked against the
// detections, the labels and the word detectors (package ground), and
// d.Subjects to what they support. Without a decoder the caption is written
// from the evidence alone.
func (c *Captioner) ground(d *bot.Description, enc Encoding, size image.Point) error {
	var words map[string]float64
	if c.words != nil {
		probs, err := c.words.probs(enc.Pooled, 1)
		if err != nil {
			return err
		}
		words = probs[0]
	}
	c.groundWith(d, words, size)
	return nil
}

// groundWith is ground with the word detectors' output already computed
// (nil without them), for DescribeBatch.
func (c *Captioner) groundWith(d *bot.Description, words map[string]float64, size image.Point) {
	ev := ground.Evidence{Objects: d.Objects, Labels: d.Labels, Width: size.X, Height: size.Y, Words: words}
	g := ground.Ground(d.RawCaption, ev, c.opts.Grounding)
	d.Caption, d.Subjects = g.Caption, g.Subjects
}

// encodedPhoto is a Description with the encoding its caption needs.
type encodedPhoto struct {
	bot.Description
	encoding Encoding
}

// describeEncoded preprocesses and encodes img.
func (c *Captioner) describeEncoded(ctx context.Context, img image.Image) (encodedPhoto, error) {
	prepStart := time.Now()
	bufp, _ := c.inputs.Get().(*[]float32)
	if bufp == nil {
		buf := make([]float32, InputLen)
		bufp = &buf
	}
	Preprocess(img, *bufp)
	prepTime := time.Since(prepStart)
	encs, runTime, err := c.encode(ctx, *bufp, 1)
	c.inputs.Put(bufp)
	if err != nil {
		return encodedPhoto{}, err
	}
	// EncoderTime is preprocessing plus the network, without the wait for
	// a free session (which depends on other callers).
	return encodedPhoto{
		Description: bot.Description{Labels: encs[0].Labels, EncoderTime: prepTime + runTime},
		encoding:    encs[0],
	}, nil
}

// originalScale is the factor from img's pixels to those of the photo it was
// decoded from (1 unless the decode was reduced). DCT scaling shrinks both
// sides alike, so the longer sides give it whatever the EXIF orientation.
func originalScale(data []byte, img image.Image) float64 {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	b := img.Bounds()
	if err != nil || max(b.Dx(), b.Dy()) == 0 {
		return 1
	}
	return float64(max(cfg.Width, cfg.Height)) / float64(max(b.Dx(), b.Dy()))
}
