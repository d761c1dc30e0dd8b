package main

import (
	"bufio"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/captionbot/captionbot/captioner"
	"github.com/captionbot/captionbot/prompts"
)

// envScreenshots names a folder for the browser test's screenshots of the
// page (the README's come from CAPTIONBOT_SCREENSHOTS=../../docs).
const envScreenshots = "CAPTIONBOT_SCREENSHOTS"

// findChromium returns Debian's chromium (installed by .ci/run) or another
// Chrome on PATH.
func findChromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// startServeProcess runs "captionbot serve" with the real captioner in a
// process of its own (ONNX Runtime starts once per process) and returns
// the playground's URL.
func startServeProcess(t *testing.T, cfgPath string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperMain$")
	cmd.Env = append(os.Environ(), "CAPTIONBOT_HELPER_ARGS="+strings.Join([]string{"serve", "--config", cfgPath}, "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &safeBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("serve's log:\n%s", stderr.String())
		}
	})
	found := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`web playground at (http://\S+/)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("serve exited without a URL:\n%s", stderr.String())
		}
		waitModels(t, u)
		return u
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve printed no URL:\n%s", stderr.String())
	}
	return ""
}

// TestBrowserPlayground drives the page in headless Chromium against serve
// with the real captioner: upload through the file input, a caption with
// hashtags, X's post within 280 weighted characters, Regenerate's new
// version, and no request outside the page's origin, no console error.
func TestBrowserPlayground(t *testing.T) {
	chromium := findChromium()
	if chromium == "" {
		t.Skip("skipping: Chromium is not installed (apt-get install chromium)")
	}
	if _, err := captioner.DefaultModelDir(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := captioner.FindRuntimeLibrary(""); err != nil {
		t.Skipf("skipping: %v", err)
	}
	photo, err := filepath.Abs(filepath.Join("..", "..", "testdata", "photos", "dog.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, fmt.Sprintf(`
[store]
path = %q
[bot]
workers = 1
[captioner]
sessions = 1
[log]
level = "warn"
`, filepath.Join(t.TempDir(), "captionbot.db")))
	t.Setenv(envTelegramToken, "")
	t.Setenv(envDiscordToken, "")
	base := startServeProcess(t, cfg)
	origin, _ := url.Parse(base)

	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.NoFirstRun,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("user-data-dir", t.TempDir()))
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	var mu sync.Mutex
	var outside, consoleErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*network.EventRequestWillBeSent); ok {
			u, err := url.Parse(ev.Request.URL)
			if err != nil || (u.Scheme != "blob" && u.Scheme != "data" && u.Host != origin.Host) {
				mu.Lock()
				outside = append(outside, ev.Request.URL)
				mu.Unlock()
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException {
				mu.Lock()
				consoleErrors = append(consoleErrors, m.Text)
				mu.Unlock()
			}
		}
	}()

	shots := os.Getenv(envScreenshots)
	shot := func(name string) {
		if shots == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	post := func() string {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("post")))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	wait := func(expr string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			_, err := chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(90*time.Second))(ctx, tg)
			return chromedp.Void{}, err
		}
	}

	do("open the page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base),
		wait(`document.querySelectorAll('#networks button').length > 5`))
	// Every form control has a label, and the first Tab lands on the skip link.
	unlabelled, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input, select')]
		.filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.id)`))
	if err != nil || len(unlabelled) > 0 {
		t.Errorf("controls without a label: %v (%v)", unlabelled, err)
	}
	do("press Tab", chromedp.KeyEvent("\t"))
	if focused, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.className`)); err != nil || focused != "skip" {
		t.Errorf("first Tab focused %q (%v), want the skip link", focused, err)
	}

	do("upload the photo", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}, chromedp.NodeReady),
		wait(`document.getElementById('post').textContent.includes('#')`))
	if caption, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("caption"))); !strings.Contains(caption, "dog") {
		t.Errorf("caption %q names no dog", caption)
	}
	boxes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#boxes div').length`))
	if err != nil || boxes == 0 {
		t.Errorf("no object outlined (%d, %v)", boxes, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.activeElement.blur(), true`)); err != nil {
		t.Fatal(err)
	}
	shot("playground-desktop.png")

	do("choose X", chromedp.Click(chromedp.CSS(`#networks button[data-value="x"]`)),
		wait(`document.getElementById('post').dataset.network === 'x'`))
	first := post()
	if n := prompts.WeightedLength(first); n == 0 || n > 280 {
		t.Errorf("X post is %d weighted characters:\n%s", n, first)
	}

	do("regenerate", chromedp.Click(chromedp.ID("regenerate")),
		wait(`document.getElementById('post').dataset.variant === '1'`))
	second := post()
	if second == first {
		t.Errorf("Regenerate gave the same post:\n%s", second)
	}
	if n := prompts.WeightedLength(second); n > 280 {
		t.Errorf("regenerated X post is %d weighted characters", n)
	}
	if v, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("version"))); !strings.Contains(v, "version 2") {
		t.Errorf("version label %q", v)
	}

	do("phone width", chromedp.EmulateViewport(390, 844), chromedp.Sleep(300*time.Millisecond))
	width, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil || width > 390 {
		t.Errorf("the page scrolls sideways on a phone: %d px wide (%v)", width, err)
	}
	shot("playground-phone.png")

	time.Sleep(200 * time.Millisecond) // let late console messages arrive
	mu.Lock()
	defer mu.Unlock()
	if len(outside) > 0 {
		t.Errorf("the page requested outside its origin: %v", outside)
	}
	if len(consoleErrors) > 0 {
		t.Errorf("console errors: %v", consoleErrors)
	}
}
