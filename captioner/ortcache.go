package captioner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"golang.org/x/sys/cpu"
)

// ONNX Runtime spends most of a session's creation optimising the graph
// (fusing, constant folding, converting convolutions to the CPU's blocked
// layout). It can save the optimised graph, and a session created from that
// file with optimisation off starts several times faster. The saved graph
// is specific to the CPU (the blocked layout follows the vector width) and
// to the ONNX Runtime version, so it is never shipped: it is written on
// first use into a cache folder, under a name that keys it by the model's
// hash, the ONNX Runtime version and the CPU's features.

// optimizedCachePath returns where the optimised copy of the model at path
// lives in dir.
func optimizedCachePath(dir, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	// %v of the feature structs lists every flag Go's cpu package knows.
	fmt.Fprintf(h, "\x00ort %s\x00%s\x00%v\x00%v", ort.GetVersion(), runtime.GOARCH, cpu.X86, cpu.ARM64)
	name := strings.TrimSuffix(filepath.Base(path), ".onnx")
	return filepath.Join(dir, name+"-"+hex.EncodeToString(h.Sum(nil))[:24]+".onnx"), nil
}

// newCachedSession creates a session of the model at path. With cached
// set, it loads the optimised copy from there when it exists (one that fails
// to load is deleted), and otherwise creates the session from path and
// writes the copy for next time. Failing to write the cache is not an error.
func newCachedSession(path, cached string, inputs, outputs []string, threads int, spin bool) (*ort.DynamicAdvancedSession, error) {
	create := func(model string, optimized bool, save string) (*ort.DynamicAdvancedSession, error) {
		opts, err := newSessionOptions(threads, spin)
		if err != nil {
			return nil, err
		}
		defer opts.Destroy()
		if optimized {
			if err := opts.SetGraphOptimizationLevel(ort.GraphOptimizationLevelDisableAll); err != nil {
				return nil, err
			}
		}
		if save != "" {
			if err := opts.SetOptimizedModelFilePath(save); err != nil {
				return nil, err
			}
		}
		return ort.NewDynamicAdvancedSession(model, inputs, outputs, opts)
	}
	if cached == "" {
		return create(path, false, "")
	}
	if isFile(cached) {
		if s, err := create(cached, true, ""); err == nil {
			return s, nil
		}
		os.Remove(cached) // stale or damaged: rebuild it
	}
	if err := os.MkdirAll(filepath.Dir(cached), 0o755); err != nil {
		return create(path, false, "")
	}
	// Written under a name of its own and renamed into place, so another
	// process never loads a half-written file.
	tmp := fmt.Sprintf("%s.%d.tmp", cached, os.Getpid())
	s, err := create(path, false, tmp)
	if err != nil {
		os.Remove(tmp)
		return create(path, false, "")
	}
	if err := os.Rename(tmp, cached); err != nil {
		os.Remove(tmp)
	}
	return s, nil
}
