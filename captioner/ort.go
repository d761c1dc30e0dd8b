package captioner

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// ErrNoRuntime means the ONNX Runtime shared library was not found. Its
// message names the command that installs it.
var ErrNoRuntime = errors.New("ONNX Runtime library not found: run scripts/setup.sh " +
	"(or set " + RuntimeLibraryEnv + " to an installed libonnxruntime ≥ 1.24)")

// RuntimeLibraryEnv is the environment variable naming the ONNX Runtime
// shared library, for platforms scripts/setup.sh does not cover.
const RuntimeLibraryEnv = "ONNXRUNTIME_SHARED_LIBRARY_PATH"

// runtimeDir and runtimeFile are where scripts/setup.sh puts the library,
// relative to the repository root.
const (
	runtimeDir  = ".ort"
	runtimeFile = "libonnxruntime.so.1"
)

// FindRuntimeLibrary returns the ONNX Runtime shared library to load, looking
// in this order: configured (captioner.onnxruntime_library in the config),
// $ONNXRUNTIME_SHARED_LIBRARY_PATH, .ort/ in the working directory or one of
// its parents, .ort/ next to the binary or in the binary's parent directory.
// A path that is named but missing is an error that says so.
func FindRuntimeLibrary(configured string) (string, error) {
	for _, named := range []struct{ path, from string }{
		{configured, "captioner.onnxruntime_library"},
		{os.Getenv(RuntimeLibraryEnv), RuntimeLibraryEnv},
	} {
		if named.path == "" {
			continue
		}
		if !isFile(named.path) {
			return "", fmt.Errorf("%s names %s, which does not exist: %w", named.from, named.path, ErrNoRuntime)
		}
		return named.path, nil
	}
	if p, ok := findUp(filepath.Join(runtimeDir, runtimeFile)); ok {
		return p, nil
	}
	return "", ErrNoRuntime
}

// findUp looks for rel in the working directory and its parents, then next
// to the executable and in its parent directory. Running from a package
// directory (go test) or from an installed binary's folder both work.
func findUp(rel string) (string, bool) {
	var dirs []string
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			dirs = append(dirs, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dirs = append(dirs, filepath.Dir(exe), filepath.Dir(filepath.Dir(exe)))
		}
	}
	for _, d := range dirs {
		if p := filepath.Join(d, rel); isFile(p) {
			return p, true
		}
	}
	return "", false
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// ortEnv is the process's ONNX Runtime environment. onnxruntime_go keeps
// one global environment, so it is initialised once; a failed attempt (the
// library missing) may be retried with another path.
var ortEnv struct {
	mu   sync.Mutex
	path string // loaded library; empty until initialised
}

// InitRuntime loads the ONNX Runtime library (see FindRuntimeLibrary) and
// initialises its environment, once per process. Later calls return the
// path loaded first, whatever library they name.
func InitRuntime(library string) (path string, err error) {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.path != "" {
		return ortEnv.path, nil
	}
	path, err = FindRuntimeLibrary(library)
	if err != nil {
		return "", err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return "", fmt.Errorf("load ONNX Runtime from %s (it must be version 1.24 or later): %v: %w", path, err, ErrNoRuntime)
	}
	ortEnv.path = path
	return path, nil
}

// RuntimeVersion returns the loaded ONNX Runtime's version, or "" before
// InitRuntime succeeded.
func RuntimeVersion() string {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.path == "" {
		return ""
	}
	return ort.GetVersion()
}
