package captioner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// The encoder model's tensor names (models/README.md describes them).
const (
	encoderInput   = "image"   // float32 [N,224,224,3]
	encoderPooled  = "pooled"  // float32 [N,1280]
	encoderSpatial = "spatial" // float32 [N,7,7,1280]
	encoderScores  = "scores"  // float32 [N,1001], softmax; 0 is background
)

// MaxBatch is the most images one encoder run takes; EncodeImages splits
// longer lists. It bounds the memory of one run (about 0.6 MB of input and
// 0.25 MB of output per image).
const MaxBatch = 32

// encoder is a pool of ONNX Runtime sessions of the encoder model. A session
// serves one run at a time; callers wait for a free one.
type encoder struct {
	free     chan *encoderSession
	sessions []*encoderSession
	warmUp   time.Duration // the warm-up runs' time, all sessions together
}

// encoderSession is one ONNX Runtime session with its reusable input tensor.
type encoderSession struct {
	s     *ort.DynamicAdvancedSession
	batch int                  // images the input tensor holds
	input *ort.Tensor[float32] // [batch,224,224,3]; nil until the first run
}

// encoderOutput is one run's output, copied out of ONNX Runtime.
type encoderOutput struct {
	pooled, spatial, scores []float32
	// Per-image sizes of the outputs.
	pooledLen, spatialLen, scoresLen int
	// runTime is the time the run took, not counting the wait for a session.
	runTime time.Duration
}

// sessionConfig is how the encoder's sessions run.
type sessionConfig struct {
	sessions int    // sessions in the pool, ≥ 1
	threads  int    // intra-op threads per session; 0: ONNX Runtime's default (one per core)
	spin     bool   // let idle intra-op threads spin-wait (ONNX Runtime's default) instead of sleeping
	cacheDir string // folder for ONNX Runtime's optimised copy of the model; empty: none
}

// newSessionOptions returns ONNX Runtime session options for threads
// intra-op threads (0: ONNX Runtime's default) with or without spin-waiting.
func newSessionOptions(threads int, spin bool) (*ort.SessionOptions, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	if threads > 0 {
		if err := opts.SetIntraOpNumThreads(threads); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("intra-op threads: %w", err)
		}
	}
	if !spin {
		// A spinning thread keeps its core busy for a while after each
		// run, time another session or process could have used.
		if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("intra-op spinning: %w", err)
		}
	}
	return opts, nil
}

func newEncoder(path string, cfg sessionConfig) (*encoder, error) {
	cached := ""
	if cfg.cacheDir != "" {
		var err error
		if cached, err = optimizedCachePath(cfg.cacheDir, path); err != nil {
			return nil, fmt.Errorf("load encoder: %w", err)
		}
	}
	e := &encoder{free: make(chan *encoderSession, cfg.sessions)}
	for range cfg.sessions {
		s, err := newCachedSession(path, cached, []string{encoderInput},
			[]string{encoderPooled, encoderSpatial, encoderScores}, cfg.threads, cfg.spin)
		if err != nil {
			e.close()
			return nil, fmt.Errorf("load encoder %s: %w", path, err)
		}
		es := &encoderSession{s: s}
		e.sessions = append(e.sessions, es)
		// One blank image through each session: ONNX Runtime sets up its
		// memory on the first run, which would otherwise make the first
		// photo several times slower than the rest.
		start := time.Now()
		if _, err := es.run(context.Background(), make([]float32, InputLen), 1); err != nil {
			e.close()
			return nil, fmt.Errorf("warm up encoder %s: %w", path, err)
		}
		e.warmUp += time.Since(start)
		e.free <- es
	}
	return e, nil
}

// close destroys the sessions. No run may be in flight.
func (e *encoder) close() error {
	var errs []error
	for _, s := range e.sessions {
		if s.input != nil {
			errs = append(errs, s.input.Destroy())
		}
		errs = append(errs, s.s.Destroy())
	}
	e.sessions = nil
	return errors.Join(errs...)
}

// run encodes n preprocessed images (input holds n*InputLen values). It
// waits for a free session, and stops waiting — or asks ONNX Runtime to stop
// the run — when ctx is done.
func (e *encoder) run(ctx context.Context, input []float32, n int) (encoderOutput, error) {
	var s *encoderSession
	select {
	case s = <-e.free:
	case <-ctx.Done():
		return encoderOutput{}, ctx.Err()
	}
	defer func() { e.free <- s }()
	start := time.Now()
	out, err := s.run(ctx, input, n)
	out.runTime = time.Since(start)
	return out, err
}

func (s *encoderSession) run(ctx context.Context, input []float32, n int) (out encoderOutput, err error) {
	if s.input == nil || s.batch != n {
		if s.input != nil {
			s.input.Destroy()
			s.input = nil
		}
		t, err := ort.NewTensor(ort.NewShape(int64(n), InputSize, InputSize, InputChannels), make([]float32, n*InputLen))
		if err != nil {
			return out, fmt.Errorf("encoder input tensor: %w", err)
		}
		s.input, s.batch = t, n
	}
	copy(s.input.GetData(), input[:n*InputLen])

	outputs := make([]ort.Value, 3) // nil: ONNX Runtime allocates them
	run := func(opts *ort.RunOptions) error { return s.s.RunWithOptions([]ort.Value{s.input}, outputs, opts) }
	if err := runWithContext(ctx, run, func() error { return run(nil) }); err != nil {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		return out, fmt.Errorf("run encoder: %w", err)
	}
	defer func() {
		for _, v := range outputs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	var lens [3]int
	var data [3][]float32
	for i, v := range outputs {
		t, ok := v.(*ort.Tensor[float32])
		if !ok {
			return out, fmt.Errorf("encoder output %d is %T, want a float32 tensor", i, v)
		}
		shape := t.GetShape()
		if len(shape) < 2 || shape[0] != int64(n) {
			return out, fmt.Errorf("encoder output %d has shape %v, want [%d,...]", i, shape, n)
		}
		lens[i] = int(shape.FlattenedSize()) / n
		data[i] = slices.Clone(t.GetData())
	}
	return encoderOutput{
		pooled: data[0], spatial: data[1], scores: data[2],
		pooledLen: lens[0], spatialLen: lens[1], scoresLen: lens[2],
	}, nil
}
