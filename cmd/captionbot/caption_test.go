package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner"
	"github.com/google/go-cmp/cmp"
)

// fakeDescriber describes a "photo" by its bytes: the label is the file's
// text, "bad" is not an image, and a delay shuffles completion order.
type fakeDescriber struct {
	inFlight, maxInFlight atomic.Int32
}

func (f *fakeDescriber) Describe(ctx context.Context, data []byte) (bot.Description, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxInFlight.Load()
		if n <= m || f.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	text := string(data)
	if text == "bad" {
		return bot.Description{}, fmt.Errorf("the file is not a JPEG, PNG, GIF or WebP image: %w", bot.ErrNotImage)
	}
	time.Sleep(time.Duration(len(text)%3) * time.Millisecond)
	d := bot.Description{
		Labels:      []bot.Label{{Label: text, Score: 0.5}},
		EncoderTime: 6 * time.Millisecond,
		Total:       7 * time.Millisecond,
	}
	switch text {
	case "giraffe": // a detector that found something
		d.Objects = []bot.Object{{Label: "giraffe", Score: 0.824, Box: [4]int{166, 30, 287, 414}}}
		d.DetectorTime = 8 * time.Millisecond
	case "wall": // a detector that found nothing
		d.Objects = []bot.Object{}
		d.DetectorTime = 8 * time.Millisecond
	}
	return d, nil
}

// useFake returns a fake describer and the deps that open it.
func useFake(t *testing.T) (*fakeDescriber, deps) {
	t.Helper()
	f := &fakeDescriber{}
	return f, describerDeps(f)
}

// describerDeps are the real deps, except that openDescriber returns d.
func describerDeps(d bot.Describer) deps {
	dp := defaultDeps()
	dp.openDescriber = func(*config) (bot.Describer, io.Closer, error) { return d, io.NopCloser(nil), nil }
	return dp
}

// photoTree writes files (path → content) under a temp dir.
func photoTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func runCLI(dp deps, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(context.Background(), dp, args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCaptionJSONFolderInOrder(t *testing.T) {
	f, dp := useFake(t)
	dir := photoTree(t, map[string]string{
		"a.jpg": "alpha", "b/c.PNG": "charlie", "b/d.webp": "delta-d", "e.gif": "echo",
		"notes.txt": "not taken", "f.jpeg": "foxtrot-f",
	})
	code, stdout, stderr := runCLI(dp, "caption", "--json", dir)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var got []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var line struct {
			Image     string      `json:"image"`
			Labels    []bot.Label `json:"labels"`
			EncoderMS *float64    `json:"encoder_ms"`
			MS        *float64    `json:"ms"`
			Caption   *string     `json:"caption"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if line.EncoderMS == nil || *line.EncoderMS != 6 || line.MS == nil {
			t.Errorf("line %q: want encoder_ms 6 and ms", sc.Text())
		}
		if line.Caption != nil {
			t.Errorf("line %q has a caption without a decoder", sc.Text())
		}
		rel, _ := filepath.Rel(dir, line.Image)
		got = append(got, rel+"="+line.Labels[0].Label)
	}
	want := []string{"a.jpg=alpha", "b/c.PNG=charlie", "b/d.webp=delta-d", "e.gif=echo", "f.jpeg=foxtrot-f"}
	if !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if f.maxInFlight.Load() < 1 {
		t.Error("describer never called")
	}
}

func TestCaptionFailuresContinue(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"good.jpg": "good", "bad.jpg": "bad", "empty.png": ""})
	missing := filepath.Join(dir, "missing.jpg")
	code, stdout, stderr := runCLI(dp, "caption", filepath.Join(dir, "bad.jpg"), missing, filepath.Join(dir, "good.jpg"))
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if !strings.Contains(stdout, "good.jpg") || !strings.Contains(stdout, "labels:  good (50%)") {
		t.Errorf("stdout %q lacks the good photo", stdout)
	}
	for _, want := range []string{"bad.jpg: the file is not a JPEG", "missing.jpg: no such file"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q lacks %q", stderr, want)
		}
	}
}

func TestCaptionUsage(t *testing.T) {
	_, dp := useFake(t)
	for _, args := range [][]string{
		{"caption"},
		{"caption", "--nope", "x.jpg"},
		{"caption", "--config", filepath.Join(t.TempDir(), "missing.toml"), "x.jpg"},
	} {
		if code, _, stderr := runCLI(dp, args...); code != exitUsage || stderr == "" {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and a message", args, code, stderr, exitUsage)
		}
	}
}

func TestCaptionFlagsAfterPaths(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"x.jpg": "xray", "-y.jpg": "yankee"})
	code, stdout, _ := runCLI(dp, "caption", filepath.Join(dir, "x.jpg"), "--json", "--", filepath.Join(dir, "-y.jpg"))
	if code != exitOK || strings.Count(stdout, `"image"`) != 2 {
		t.Errorf("exit %d, stdout %q; want two JSON lines", code, stdout)
	}
}

func TestCaptionSetupErrorExit2(t *testing.T) {
	dp := defaultDeps()
	dp.openDescriber = func(*config) (bot.Describer, io.Closer, error) {
		return nil, nil, captioner.ErrNoRuntime
	}
	code, _, stderr := runCLI(dp, "caption", "x.jpg")
	if code != exitUsage || !strings.Contains(stderr, "scripts/setup.sh") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line naming scripts/setup.sh", code, stderr)
	}
}

func TestCaptionBoundedInFlight(t *testing.T) {
	f, _ := useFake(t)
	files := map[string]string{}
	for i := range 40 {
		files[fmt.Sprintf("%02d.jpg", i)] = strings.Repeat("x", i)
	}
	dir := photoTree(t, files)
	items := listImages([]string{dir})
	var order []string
	captionAll(context.Background(), f, items, 3, func(r captionResult) { order = append(order, filepath.Base(r.line.Image)) })
	if m := f.maxInFlight.Load(); m > 3 {
		t.Errorf("%d photos in flight, want at most 3", m)
	}
	if !slices.IsSorted(order) || len(order) != 40 {
		t.Errorf("results out of order: %v", order)
	}
}

func TestListImagesLinksAndEmptyFolders(t *testing.T) {
	dir := photoTree(t, map[string]string{"real/a.jpg": "a", "real/notes.txt": "n", "empty/readme.md": "r"})
	links := filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"b.jpg":    filepath.Join(dir, "real", "a.jpg"), // link to a photo: captioned
		"gone.jpg": filepath.Join(dir, "missing.jpg"),   // broken link: reported
		"loop.jpg": filepath.Join(links),                // link to a folder: skipped
		"up":       dir,                                 // link to a folder: not walked
	} {
		if err := os.Symlink(target, filepath.Join(links, name)); err != nil {
			t.Fatal(err)
		}
	}
	type got struct {
		path string
		err  bool
	}
	var items []got
	for _, it := range listImages([]string{links, filepath.Join(dir, "empty"), filepath.Join(dir, "real")}) {
		rel, _ := filepath.Rel(dir, it.path)
		items = append(items, got{rel, it.err != nil})
	}
	want := []got{{"links/b.jpg", false}, {"links/gone.jpg", true}, {"empty", true}, {"real/a.jpg", false}}
	if diff := cmp.Diff(want, items, cmp.AllowUnexported(got{})); diff != "" {
		t.Errorf("listImages (-want +got):\n%s", diff)
	}
	code, _, stderr := runCLI(defaultDeps(), "caption", filepath.Join(dir, "empty"))
	if code != exitFailure || !strings.Contains(stderr, "no JPEG, PNG, GIF or WebP files") {
		t.Errorf("empty folder: exit %d, stderr %q; want exit 1 and a message", code, stderr)
	}
}

func TestCaptionCanceled(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"a.jpg": "a", "b.jpg": "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, dp, []string{"caption", dir}, &out, &errb)
	if code != exitFailure || strings.Count(errb.String(), "interrupted") != 1 {
		t.Errorf("exit %d, stderr %q; want exit 1 and one 'interrupted'", code, errb.String())
	}
}

func TestReadImageFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.jpg")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(captioner.MaxImageBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := readImageFile(p); !errors.Is(err, bot.ErrImageTooLarge) {
		t.Errorf("readImageFile(big) = %v, want ErrImageTooLarge", err)
	}
}

// TestCaptionRealModel runs the real encoder on the committed photos.
func TestCaptionRealModel(t *testing.T) {
	if _, err := captioner.DefaultModelDir(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := captioner.FindRuntimeLibrary(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	code, stdout, stderr := runCLI(defaultDeps(), "caption", "--json", filepath.Join("..", "..", "testdata", "photos"))
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{`"label":"German shepherd"`, `"label":"kite"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %s:\n%s", want, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	if _, err := captioner.FindRuntimeLibrary(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	code, stdout, stderr := runCLI(defaultDeps(), "version")
	if code != exitOK || !strings.Contains(stdout, "go1.") || !strings.Contains(stdout, "onnxruntime 1.") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestHelperMain is not a test: re-executed by runMain, it runs captionbot
// in a fresh process (ONNX Runtime is initialised once per process).
func TestHelperMain(t *testing.T) {
	args := os.Getenv("CAPTIONBOT_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process only")
	}
	os.Exit(run(context.Background(), defaultDeps(), strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// runMain runs captionbot with args and extra environment in a new process.
// The args travel in one variable, separated by \x1f (an environment value
// cannot hold NUL).
func runMain(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
	cmd.Env = append(append(os.Environ(), env...), "CAPTIONBOT_HELPER_ARGS="+strings.Join(args, "\x1f"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

func TestCaptionNoRuntimeProcess(t *testing.T) {
	if _, err := captioner.DefaultModelDir(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "libonnxruntime.so.1")
	photo := filepath.Join("..", "..", "testdata", "photos", "dog.jpg")
	for _, args := range [][]string{{"caption", photo}, {"version"}} {
		code, _, stderr := runMain(t, []string{captioner.RuntimeLibraryEnv + "=" + missing}, args...)
		if code != exitUsage || !strings.Contains(stderr, "scripts/setup.sh") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%q without ONNX Runtime: exit %d, stderr %q; want exit 2 and one line naming scripts/setup.sh", args, code, stderr)
		}
	}
}

// TestCaptionObjects: the detector's objects and time reach the JSON lines
// and the text output; without a detector, "objects" is null.
func TestCaptionObjects(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"a.jpg": "giraffe", "b.jpg": "wall", "c.jpg": "plain"})
	code, stdout, stderr := runCLI(dp, "caption", "--json", dir)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	type line struct {
		Objects    []bot.Object `json:"objects"`
		DetectorMS float64      `json:"detector_ms"`
	}
	var got []line
	var raw []string
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, l)
		raw = append(raw, sc.Text())
	}
	want := []line{
		{Objects: []bot.Object{{Label: "giraffe", Score: 0.824, Box: [4]int{166, 30, 287, 414}}}, DetectorMS: 8},
		{Objects: []bot.Object{}, DetectorMS: 8},
		{},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("objects (-want +got):\n%s", diff)
	}
	if len(raw) == 3 && (!strings.Contains(raw[0], `"objects":[{"label":"giraffe","score":0.824,"box":[166,30,287,414]}]`) ||
		!strings.Contains(raw[1], `"objects":[]`) || !strings.Contains(raw[2], `"objects":null`) ||
		strings.Contains(raw[2], "detector_ms")) {
		t.Errorf("JSON lines %q", raw)
	}

	code, stdout, _ = runCLI(dp, "caption", dir)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{
		"  objects: giraffe (82%) at 166,30 287x414\n", "  objects: none found\n",
		"encoder 6.0 ms, detector 8.0 ms, total",
	} {
		if !strings.Contains(stdout, w) {
			t.Errorf("text output lacks %q:\n%s", w, stdout)
		}
	}
	if strings.Count(stdout, "objects:") != 2 {
		t.Errorf("text output: want objects for the two photos with a detector:\n%s", stdout)
	}
}
