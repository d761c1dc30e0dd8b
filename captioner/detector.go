package captioner

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/captionbot/captionbot/bot"
)

// Files of the object detector, beside encoder.onnx (models/README.md,
// "Detector"; models/convert/nanodet.py writes the model).
const (
	DetectorFile       = "detector.onnx"
	DetectorLabelsFile = "coco_labels.txt"
)

// ErrNoDetector is returned when the model folder has no object detector.
var ErrNoDetector = errors.New("no object detector in the model folder")

// The detector model's interface: NanoDet, static shapes, batch 1, a
// square input of side S (a multiple of 32, read from the model; 320 as
// committed) and P = (S/8)² + (S/16)² + (S/32)² anchor points.
const (
	detectorInput  = "image"  // float32 [1,3,S,S], NCHW BGR, (pixel - mean) / std
	detectorScores = "scores" // float32 [1,P,80], sigmoid class scores per anchor point
	detectorBoxes  = "boxes"  // float32 [1,P,44], GFL logits: 4 sides × detectorBins

	detectorClasses = 80
	detectorBins    = 11 // distances 0..10 strides per side (NanoDet's reg_max 10)
	detectorBoxLen  = 4 * detectorBins
)

// detectorStrides are the anchor grids' strides, in the model's output order.
var detectorStrides = [...]int{8, 16, 32}

// detectorPoints is the number of anchor points of a size×size input.
func detectorPoints(size int) int {
	n := 0
	for _, s := range detectorStrides {
		g := size / s
		n += g * g
	}
	return n
}

// Detection thresholds (models/README.md, "Detector", says how they were
// chosen).
const (
	// DetectorMinScore is the lowest score of a returned object. Below
	// about 0.35 NanoDet mostly repeats a confident object under a related
	// class (a bird as a kite, a dog as a cow) or finds parts of it.
	DetectorMinScore = 0.35
	// DetectorMaxObjects bounds the objects of one photo, best first.
	DetectorMaxObjects = 100
	// detectorNMSIoU is the overlap above which a box of the same class
	// with a lower score is dropped (NanoDet's own setting).
	detectorNMSIoU = 0.6
	// detectorMaxCandidates bounds the boxes that enter NMS, so that a
	// pathological photo costs no more than a busy one.
	detectorMaxCandidates = 1000
)

// NanoDet's normalisation, in the model's BGR channel order.
var (
	detectorMean = [3]float32{103.53, 116.28, 123.675}
	detectorStd  = [3]float32{57.375, 57.12, 58.395}
)

// detector is a pool of ONNX Runtime sessions of the detector, each with
// its fixed input and output tensors (the shapes are static).
type detector struct {
	size     int // the input's side
	labels   []string
	free     chan *detectorSession
	sessions []*detectorSession
	// keepRatio letterboxes the photo into the square input instead of
	// stretching it (a measurement switch; models/README.md compares both).
	keepRatio bool
}

type detectorSession struct {
	s             *ort.AdvancedSession
	input         *ort.Tensor[float32]
	scores, boxes *ort.Tensor[float32]
}

// loadDetector opens dir's detector, or returns ErrNoDetector when
// detector.onnx is absent. The ONNX Runtime environment must be
// initialised.
func loadDetector(dir string, sessions, intraOpThreads int) (*detector, error) {
	path := filepath.Join(dir, DetectorFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, ErrNoDetector
	}
	labels, err := readLabels(filepath.Join(dir, DetectorLabelsFile))
	if err != nil {
		return nil, err
	}
	return openDetector(path, labels, sessions, intraOpThreads)
}

// openDetector opens the detector model at path with its class names.
func openDetector(path string, labels []string, sessions, intraOpThreads int) (*detector, error) {
	if len(labels) != detectorClasses {
		return nil, fmt.Errorf("%s has %d labels, the detector has %d classes", DetectorLabelsFile, len(labels), detectorClasses)
	}
	ins, _, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return nil, fmt.Errorf("inspect %s: %w", path, err)
	}
	if len(ins) != 1 || len(ins[0].Dimensions) != 4 {
		return nil, fmt.Errorf("%s: want one input [1,3,S,S], have %v", path, ins)
	}
	dims := ins[0].Dimensions
	size := int(dims[2])
	if dims[0] != 1 || dims[1] != 3 || dims[3] != dims[2] || size <= 0 || size%32 != 0 {
		return nil, fmt.Errorf("%s: input shape %v, want [1,3,S,S] with S a multiple of 32", path, dims)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("detector session options: %w", err)
	}
	defer opts.Destroy()
	if intraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(intraOpThreads); err != nil {
			return nil, fmt.Errorf("detector intra-op threads: %w", err)
		}
	}
	d := &detector{size: size, labels: labels, free: make(chan *detectorSession, sessions)}
	for range sessions {
		s, err := newDetectorSession(path, size, opts)
		if err != nil {
			d.close()
			return nil, err
		}
		d.sessions = append(d.sessions, s)
		// A first run sets up ONNX Runtime's memory (see newEncoder).
		if err := s.s.Run(); err != nil {
			d.close()
			return nil, fmt.Errorf("warm up detector %s: %w", path, err)
		}
		d.free <- s
	}
	return d, nil
}

func newDetectorSession(path string, size int, opts *ort.SessionOptions) (*detectorSession, error) {
	var ds detectorSession
	var err error
	if ds.input, err = ort.NewEmptyTensor[float32](ort.NewShape(1, 3, int64(size), int64(size))); err != nil {
		return nil, fmt.Errorf("detector input tensor: %w", err)
	}
	points := int64(detectorPoints(size))
	ds.scores, err = ort.NewEmptyTensor[float32](ort.NewShape(1, points, detectorClasses))
	if err == nil {
		ds.boxes, err = ort.NewEmptyTensor[float32](ort.NewShape(1, points, detectorBoxLen))
	}
	if err == nil {
		ds.s, err = ort.NewAdvancedSession(path, []string{detectorInput}, []string{detectorScores, detectorBoxes},
			[]ort.Value{ds.input}, []ort.Value{ds.scores, ds.boxes}, opts)
	}
	if err != nil {
		ds.destroy()
		return nil, fmt.Errorf("load detector %s: %w", path, err)
	}
	return &ds, nil
}

func (s *detectorSession) destroy() error {
	var errs []error
	if s.s != nil {
		errs = append(errs, s.s.Destroy())
	}
	for _, t := range []*ort.Tensor[float32]{s.input, s.scores, s.boxes} {
		if t != nil {
			errs = append(errs, t.Destroy())
		}
	}
	return errors.Join(errs...)
}

// close destroys the sessions. No run may be in flight.
func (d *detector) close() error {
	var errs []error
	for _, s := range d.sessions {
		errs = append(errs, s.destroy())
	}
	d.sessions = nil
	return errors.Join(errs...)
}

// detect finds the objects of img. The duration is preprocessing, the
// network and decoding, without the wait for a free session.
func (d *detector) detect(ctx context.Context, img image.Image) ([]bot.Object, time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	var s *detectorSession
	select {
	case s = <-d.free:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	}
	defer func() { d.free <- s }()
	start := time.Now()
	geom := preprocessDetector(img, s.input.GetData(), d.size, d.keepRatio)
	if err := runWithContext(ctx, s.s.RunWithOptions, s.s.Run); err != nil {
		return nil, 0, fmt.Errorf("run detector: %w", err)
	}
	objs := decodeDetections(s.scores.GetData(), s.boxes.GetData(), d.labels, d.size, geom, DetectorVectorFloor, DetectorMaxObjects)
	return objs, time.Since(start), nil
}

// The detector vector a v2 caption decoder is conditioned on
// (models/README.md, "Caption decoder"): per COCO class, in the order of
// coco_labels.txt, the best score of its detections at or above
// DetectorVectorFloor, then per class min(count, DetectorVectorMaxCount) /
// DetectorVectorMaxCount. Training features (models/train/extract) and
// inference both compute it with DetectorVector.
const (
	DetectorVectorLen = 2 * detectorClasses
	// DetectorVectorFloor is the lowest score the vector counts: below the
	// DetectorMinScore shown to users, so the decoder sees weak evidence.
	DetectorVectorFloor = 0.2
	// DetectorVectorMaxCount is the count at which the count feature is 1.
	DetectorVectorMaxCount = 4
)

// DetectorVector computes the detector vector of objs (detections as detect
// returns them, best first, at or above DetectorVectorFloor) for the class
// names labels. Objects below the floor and unknown labels are ignored.
func DetectorVector(objs []bot.Object, labels []string) []float32 {
	return DetectorVectorAt(objs, labels, DetectorVectorFloor)
}

// DetectorVectorAt is DetectorVector with another floor (at or above
// DetectorVectorFloor, which detect decodes down to), for training runs
// that compare floors (models/train/extract -detector-floor).
func DetectorVectorAt(objs []bot.Object, labels []string, floor float64) []float32 {
	v := make([]float32, DetectorVectorLen)
	n := len(labels)
	for _, o := range objs {
		if o.Score < floor {
			continue
		}
		c := slices.Index(labels, o.Label)
		if c < 0 || c >= detectorClasses {
			continue
		}
		v[c] = max(v[c], float32(o.Score))
		if v[n+c] < 1 {
			v[n+c] = min(v[n+c]+1.0/DetectorVectorMaxCount, 1)
		}
	}
	return v
}

// shownObjects returns the prefix of objs (best first) at or above
// DetectorMinScore: those users see. NMS keeps a box against higher-scored
// boxes only, so the lower floor of detect leaves this set unchanged.
func shownObjects(objs []bot.Object) []bot.Object {
	for i, o := range objs {
		if o.Score < DetectorMinScore {
			return objs[:i:i]
		}
	}
	return objs
}

// runWithContext runs a session (the encoder's, the detector's), asking ONNX
// Runtime to stop when ctx is done; it returns ctx's error then. Without a
// cancellable context it runs plain, without run options.
func runWithContext(ctx context.Context, withOpts func(*ort.RunOptions) error, plain func() error) error {
	if ctx.Done() == nil {
		return plain()
	}
	opts, err := ort.NewRunOptions()
	if err != nil {
		return fmt.Errorf("run options: %w", err)
	}
	defer opts.Destroy()
	terminated := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		opts.Terminate()
		close(terminated)
	})
	defer func() {
		if !stop() {
			<-terminated // opts must outlive Terminate
		}
	}()
	if err := withOpts(opts); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}

// inputGeometry maps the detector's input square back to the photo: a
// photo point (x, y) is at (x*scaleX + padX, y*scaleY + padY) in the input.
type inputGeometry struct {
	w, h           int // the photo (as oriented)
	scaleX, scaleY float64
	padX, padY     float64
}

// preprocessDetector writes img as the detector's input (NCHW, BGR,
// NanoDet's mean and std) in dst: stretched to the square, or letterboxed
// (centred on black) when keepRatio. It uses the encoder's resampling
// (resize.go); an EXIF orientation is applied to the square afterwards, as
// Preprocess does.
func preprocessDetector(img image.Image, dst []float32, size int, keepRatio bool) inputGeometry {
	plane := size * size
	dst = dst[:3*plane]
	ob := img.Bounds()
	g := inputGeometry{w: ob.Dx(), h: ob.Dy(), scaleX: float64(size) / float64(ob.Dx()),
		scaleY: float64(size) / float64(ob.Dy())}
	o := orientNormal
	if oi, ok := img.(*orientedImage); ok {
		img, o = oi.src, oi.o
	}
	b := img.Bounds()
	hwcp := getFloats(3 * plane)
	defer floatBufs.Put(hwcp)
	hwc := *hwcp
	if !keepRatio {
		resizeRGB(img, size, size, hwc)
	} else {
		s := min(g.scaleX, g.scaleY)
		g.scaleX, g.scaleY = s, s
		nw := max(1, min(size, int(math.Round(float64(b.Dx())*s))))
		nh := max(1, min(size, int(math.Round(float64(b.Dy())*s))))
		x0, y0 := (size-nw)/2, (size-nh)/2
		tp := getFloats(nw * nh * 3)
		resizeRGB(img, nw, nh, *tp)
		clear(hwc)
		for y := range nh {
			copy(hwc[((y0+y)*size+x0)*3:], (*tp)[y*nw*3:(y+1)*nw*3])
		}
		floatBufs.Put(tp)
		if o.swapsAxes() {
			nw, nh = nh, nw
		}
		g.padX, g.padY = float64(size-nw)/2, float64(size-nh)/2
	}
	if o != orientNormal {
		orientSquare(hwc, size, o)
	}
	for i := range plane {
		r, gr, bl := hwc[3*i], hwc[3*i+1], hwc[3*i+2]
		dst[i] = (bl - detectorMean[0]) / detectorStd[0]
		dst[plane+i] = (gr - detectorMean[1]) / detectorStd[1]
		dst[2*plane+i] = (r - detectorMean[2]) / detectorStd[2]
	}
	return g
}

// detection is a decoded box in input pixels.
type detection struct {
	class          int
	score          float32
	x1, y1, x2, y2 float32
}

// decodeDetections turns the network's outputs into objects in photo
// pixels: the anchor points whose class score reaches minScore, their
// boxes decoded the GFL way (a softmax over each side's bins gives the
// expected distance, in strides, from the point at ((i+0.5)·stride,
// (j+0.5)·stride)), then NMS per class, best first, at most maxObjects.
func decodeDetections(scores, boxes []float32, labels []string, size int, g inputGeometry, minScore float32, maxObjects int) []bot.Object {
	var cands []detection
	point := 0
	for _, stride := range detectorStrides {
		grid := size / stride
		for j := range grid {
			for i := range grid {
				row := scores[point*detectorClasses : (point+1)*detectorClasses]
				var box [4]float32
				decoded := false
				for c, sc := range row {
					if !(sc >= minScore) { // NaN never passes
						continue
					}
					if !decoded {
						box = gflBox(boxes[point*detectorBoxLen:(point+1)*detectorBoxLen], i, j, stride, size)
						decoded = true
					}
					cands = append(cands, detection{class: c, score: sc, x1: box[0], y1: box[1], x2: box[2], y2: box[3]})
				}
				point++
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b detection) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	cands = cands[:min(len(cands), detectorMaxCandidates)]
	kept := make([]detection, 0, min(len(cands), maxObjects))
	for _, c := range cands {
		if len(kept) == maxObjects {
			break
		}
		suppressed := false
		for _, k := range kept {
			if k.class == c.class && iou(k, c) > detectorNMSIoU {
				suppressed = true
				break
			}
		}
		if !suppressed {
			kept = append(kept, c)
		}
	}
	objs := make([]bot.Object, 0, len(kept))
	for _, k := range kept {
		objs = append(objs, bot.Object{Label: labels[k.class], Score: math.Round(float64(k.score)*1e4) / 1e4, Box: g.photoBox(k)})
	}
	return objs
}

// gflBox decodes the 4×11 logits of the point (i, j) of a grid into
// x1, y1, x2, y2 in input pixels, clipped to the size×size input.
func gflBox(logits []float32, i, j, stride, size int) [4]float32 {
	cx, cy := (float32(i)+0.5)*float32(stride), (float32(j)+0.5)*float32(stride)
	var d [4]float32
	for side := range 4 {
		l := logits[side*detectorBins : (side+1)*detectorBins]
		m := slices.Max(l)
		var sum, ev float32
		for k, v := range l {
			e := float32(math.Exp(float64(v - m)))
			sum += e
			ev += e * float32(k)
		}
		d[side] = ev / sum * float32(stride)
	}
	clip := func(v float32) float32 { return min(max(v, 0), float32(size)) }
	return [4]float32{clip(cx - d[0]), clip(cy - d[1]), clip(cx + d[2]), clip(cy + d[3])}
}

func iou(a, b detection) float32 {
	iw := min(a.x2, b.x2) - max(a.x1, b.x1)
	ih := min(a.y2, b.y2) - max(a.y1, b.y1)
	if iw <= 0 || ih <= 0 {
		return 0
	}
	inter := iw * ih
	union := (a.x2-a.x1)*(a.y2-a.y1) + (b.x2-b.x1)*(b.y2-b.y1) - inter
	if union <= 0 {
		return 0
	}
	return inter / union
}

// photoBox maps a box from input pixels to the photo's x, y, w, h, inside
// the photo.
func (g inputGeometry) photoBox(d detection) [4]int {
	conv := func(v, pad, scale float64, size int) int {
		return min(max(int(math.Round((v-pad)/scale)), 0), size)
	}
	x1 := conv(float64(d.x1), g.padX, g.scaleX, g.w)
	y1 := conv(float64(d.y1), g.padY, g.scaleY, g.h)
	x2 := conv(float64(d.x2), g.padX, g.scaleX, g.w)
	y2 := conv(float64(d.y2), g.padY, g.scaleY, g.h)
	return [4]int{x1, y1, x2 - x1, y2 - y1}
}

// HasDetector reports whether the object detector is loaded.
func (c *Captioner) HasDetector() bool { return c.det != nil }

// DetectImages runs the object detector on each image (one at a time per
// session; the model's batch is 1) and returns their objects, in order.
// It returns ErrNoDetector when no detector is loaded.
func (c *Captioner) DetectImages(ctx context.Context, imgs []image.Image) ([][]bot.Object, error) {
	all, err := c.detectAll(ctx, imgs)
	for i := range all {
		all[i] = shownObjects(all[i])
	}
	return all, err
}

// DetectorVectors runs the object detector on each image and returns their
// detector vectors (DetectorVector), in order.
func (c *Captioner) DetectorVectors(ctx context.Context, imgs []image.Image) ([][]float32, error) {
	return c.DetectorVectorsAt(ctx, imgs, DetectorVectorFloor)
}

// DetectorVectorsAt is DetectorVectors with DetectorVectorAt's floor.
func (c *Captioner) DetectorVectorsAt(ctx context.Context, imgs []image.Image, floor float64) ([][]float32, error) {
	all, err := c.detectAll(ctx, imgs)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(all))
	for i, objs := range all {
		out[i] = DetectorVectorAt(objs, c.det.labels, floor)
	}
	return out, nil
}

func (c *Captioner) detectAll(ctx context.Context, imgs []image.Image) ([][]bot.Object, error) {
	if c.det == nil {
		return nil, ErrNoDetector
	}
	out := make([][]bot.Object, len(imgs))
	for i, img := range imgs {
		objs, _, err := c.det.detect(ctx, img)
		if err != nil {
			return nil, err
		}
		out[i] = objs
	}
	return out, nil
}
