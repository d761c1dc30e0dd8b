package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/captionbot/captionbot/captioner"
)

// config is captionbot's TOML configuration file (config.example.toml shows
// every key). Each section's type lives in the file of the code that uses it,
// with its defaults and check methods; a new section adds one field line here
// and one line each to config.defaults and config.check.
type config struct {
	Captioner captionerConfig `toml:"captioner"`
	Refiner   refinerConfig   `toml:"refiner"`
	Telegram  telegramConfig  `toml:"telegram"`
	Discord   discordConfig   `toml:"discord"`
	Store     storeConfig     `toml:"store"`
	Bot       botConfig       `toml:"bot"`
	Log       logConfig       `toml:"log"`
	HTTP      httpConfig      `toml:"http"`
}

// defaults fills in each section's defaults before the file is read; keys
// the file leaves out keep them.
func (c *config) defaults() {
	c.Captioner.defaults()
	c.Refiner.defaults()
	c.Telegram.defaults()
	c.Discord.defaults()
	c.Store.defaults()
	c.Bot.defaults()
	c.Log.defaults()
	c.HTTP.defaults()
}

// check validates the sections after the file is read, in order, and
// returns every section's error. dir is the config file's folder (empty
// without a file), for resolving relative paths.
func (c *config) check(dir string) error {
	return errors.Join(
		c.Captioner.check(dir),
		c.Refiner.check(),
		c.Telegram.check(),
		c.Discord.check(),
		c.Store.check(dir),
		c.Bot.check(),
		c.Log.check(),
		c.HTTP.check(c.Bot.JobTimeout.Duration),
	)
}

// captionerConfig is the [captioner] section.
type captionerConfig struct {
	// ModelDir holds encoder.onnx, imagenet_labels.txt, the decoder and
	// the object detector (detector.onnx, coco_labels.txt; optional); empty: models/ in the working directory (or a parent), else next to
	// the binary. A relative path is relative to the config file.
	ModelDir string `toml:"model_dir"`
	// ONNXRuntimeLibrary is the ONNX Runtime shared library; empty:
	// $ONNXRUNTIME_SHARED_LIBRARY_PATH, else .ort/ (scripts/setup.sh).
	ONNXRuntimeLibrary string `toml:"onnxruntime_library"`
	// Encoder is the encoder's copy: "float" (encoder.onnx) or "int8"
	// (encoder-int8.onnx, quantized: faster, scores in models/README.md).
	Encoder string `toml:"encoder"`
	// Sessions is the number of images encoded (and, with the detector,
	// searched for objects) at the same time; 0 = one per core, at most 4
	// (captioner.AutoSessions).
	Sessions int `toml:"sessions"`
	// IntraOpThreads is ONNX Runtime's threads per session; 0 = the cores
	// shared out among the sessions (one each when sessions is 0).
	IntraOpThreads int `toml:"intra_op_threads"`
	// Batch is the most photos the bot describes in one batch (one encoder
	// run, one beam search) when its workers take them at the same moment;
	// the first waits at most bot.MaxBatchWait for others. 0 or 1 = off.
	Batch int `toml:"batch"`
	// SpinWait lets ONNX Runtime's idle threads spin-wait (only matters
	// with intra_op_threads > 1).
	SpinWait bool `toml:"spin_wait"`
	// OptimizedModelCache keeps ONNX Runtime's optimised copy of the
	// encoder in the user cache folder, so later starts load faster.
	OptimizedModelCache bool `toml:"optimized_model_cache"`
	// Beam is the caption decoder's beam width.
	Beam int `toml:"beam"`
	// MaxLen is the longest caption in words.
	MaxLen int `toml:"max_len"`
	// LengthAlpha is the beam search's length normalisation exponent
	// (score = log-probability / length^alpha); 0 means the default.
	LengthAlpha float64 `toml:"length_alpha"`
	// TopLabels is the number of ImageNet labels reported per photo.
	TopLabels int `toml:"top_labels"`
	// DecodeMemoryMB is the memory, in MB, that decoding photos may take
	// at once, all photos together (captioner.SetDecodeBudget).
	DecodeMemoryMB int `toml:"decode_memory_mb"`
}

func (cc *captionerConfig) defaults() {
	*cc = captionerConfig{Encoder: captioner.EncoderFloat, OptimizedModelCache: true, Beam: 3, MaxLen: 20, TopLabels: 5,
		LengthAlpha: captioner.DefaultLengthAlpha, DecodeMemoryMB: captioner.DefaultDecodeBudget >> 20}
}

func (cc *captionerConfig) check(dir string) error {
	for _, v := range []struct {
		key      string
		val, min int
	}{
		{"sessions", cc.Sessions, 0},
		{"intra_op_threads", cc.IntraOpThreads, 0},
		{"batch", cc.Batch, 0},
		{"beam", cc.Beam, 1},
		{"max_len", cc.MaxLen, 1},
		{"top_labels", cc.TopLabels, 1},
		{"decode_memory_mb", cc.DecodeMemoryMB, 16},
	} {
		if v.val < v.min {
			return fmt.Errorf("captioner.%s is %d; it must be at least %d", v.key, v.val, v.min)
		}
	}
	if cc.Encoder != captioner.EncoderFloat && cc.Encoder != captioner.EncoderInt8 {
		return fmt.Errorf("captioner.encoder is %q; it must be %q or %q", cc.Encoder, captioner.EncoderFloat, captioner.EncoderInt8)
	}
	if cc.LengthAlpha < 0 || cc.LengthAlpha > 2 {
		return fmt.Errorf("captioner.length_alpha is %g; it must be between 0 and 2", cc.LengthAlpha)
	}
	cc.ModelDir = resolvePath(dir, cc.ModelDir)
	cc.ONNXRuntimeLibrary = resolvePath(dir, cc.ONNXRuntimeLibrary)
	return nil
}

// resolvePath makes a path from the config file relative to its folder.
func resolvePath(dir, p string) string {
	if p == "" || dir == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// loadConfig reads the TOML file at path over the defaults; an empty path
// gives the defaults. Keys the program does not know are an error that
// names them (a typo should not be silently ignored).
func loadConfig(path string) (*config, error) {
	cfg := &config{}
	cfg.defaults()
	dir := ""
	if path != "" {
		md, err := toml.DecodeFile(path, cfg)
		if err != nil {
			return nil, fmt.Errorf("config %s: %w", path, err)
		}
		if unknown := md.Undecoded(); len(unknown) > 0 {
			keys := make([]string, len(unknown))
			for i, k := range unknown {
				keys[i] = k.String()
			}
			return nil, fmt.Errorf("config %s: unknown keys: %s", path, strings.Join(keys, ", "))
		}
		dir = filepath.Dir(path)
	}
	if err := cfg.check(dir); err != nil {
		if path == "" {
			return nil, fmt.Errorf("config: %w", err)
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// sessions is the number of encoder sessions the captioner will open.
func (cc captionerConfig) sessions() int {
	if cc.Sessions > 0 {
		return cc.Sessions
	}
	return captioner.AutoSessions()
}

// openCaptioner loads the captioner the [captioner] section describes.
// Errors wrap captioner.ErrNoRuntime or captioner.ErrNoModel when the setup
// is incomplete (callers exit with exitUsage then).
func openCaptioner(cfg *config) (*captioner.Captioner, error) {
	cc := cfg.Captioner
	captioner.SetDecodeBudget(int64(cc.DecodeMemoryMB) << 20)
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil && cc.OptimizedModelCache {
		cache = filepath.Join(dir, "captionbot", "onnxruntime") // no cache folder: load without
	}
	return captioner.New(captioner.Options{
		ModelDir:            cc.ModelDir,
		RuntimeLibrary:      cc.ONNXRuntimeLibrary,
		Encoder:             cc.Encoder,
		Sessions:            cc.Sessions,
		IntraOpThreads:      cc.IntraOpThreads,
		SpinWait:            cc.SpinWait,
		OptimizedModelCache: cache,
		TopLabels:           cc.TopLabels,
		Beam:                cc.Beam,
		MaxLen:              cc.MaxLen,
		LengthAlpha:         cc.LengthAlpha,
	})
}

// isSetupError reports whether err means captionbot is not set up (no ONNX
// Runtime, no model files), which is exitUsage rather than exitFailure.
func isSetupError(err error) bool {
	return errors.Is(err, captioner.ErrNoRuntime) || errors.Is(err, captioner.ErrNoModel)
}
