package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCaptionNetworkText(t *testing.T) {
	_, dp := useFake(t)
	t.Setenv(envOpenAIKey, "")
	dir := photoTree(t, map[string]string{"a.jpg": "golden retriever"})
	code, out, errOut := runCLI(dp, "caption", "--network", "instagram", "--hashtags", "2", filepath.Join(dir, "a.jpg"))
	if code != exitOK {
		t.Fatalf("exit %d, stderr %s", code, errOut)
	}
	want := filepath.Join(dir, "a.jpg") + ` (instagram, offline)
  This looks like a golden retriever. A moment, captured. 🐶✨

  #goldenretriever #dog
  alt text: A photo that may show a golden retriever.
`
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestCaptionNetworkJSON(t *testing.T) {
	_, dp := useFake(t)
	t.Setenv(envOpenAIKey, "")
	dir := photoTree(t, map[string]string{"a.jpg": "tabby, tabby cat", "b.jpg": "bad"})
	code, out, errOut := runCLI(dp, "caption", "--json", "--network", "x", "--tone", "minimal", "--hint", "lazy sunday",
		filepath.Join(dir, "a.jpg"), filepath.Join(dir, "b.jpg"))
	if code != exitFailure || !strings.Contains(errOut, "b.jpg") {
		t.Errorf("exit %d, stderr %q: want a failure naming b.jpg", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 1 {
		t.Fatalf("want one JSON line, got:\n%s", out)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &got); err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string]any{
		"post":     "This looks like a tabby cat. #tabbycat #cat",
		"hashtags": []any{"#tabbycat", "#cat"},
		"alt_text": "A photo that may show a tabby cat.",
		"network":  "x",
		"refiner":  "offline",
	} {
		if diff := cmp.Diff(want, got[key]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", key, diff)
		}
	}
	if _, ok := got["labels"]; !ok {
		t.Errorf("the caption fields are gone: %s", lines[0])
	}
}

func TestCaptionWithoutNetworkHasNoPost(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"a.jpg": "tabby"})
	code, out, _ := runCLI(dp, "caption", "--json", filepath.Join(dir, "a.jpg"))
	if code != exitOK || strings.Contains(out, `"post"`) || strings.Contains(out, `"refiner"`) {
		t.Errorf("exit %d, output %s", code, out)
	}
}

func TestCaptionNetworkUsageErrors(t *testing.T) {
	_, dp := useFake(t)
	dir := photoTree(t, map[string]string{"a.jpg": "tabby"})
	photo := filepath.Join(dir, "a.jpg")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--network", "myspace"}, "unknown network"},
		{[]string{"--network", "x", "--tone", "angry"}, "unknown tone"},
		{[]string{"--network", "x", "--lang", "english"}, "ISO 639-1"},
		{[]string{"--network", "instagram", "--hashtags", "30"}, "at most 5"},
		{[]string{"--tone", "fun"}, "need --network"},
	} {
		code, out, errOut := runCLI(dp, append(append([]string{"caption"}, tc.args...), photo)...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want usage error with %q", tc.args, code, errOut, out, tc.want)
		}
	}
}

func TestCaptionNetworkLLMDownFallsBack(t *testing.T) {
	_, dp := useFake(t)
	t.Setenv(envOpenAIKey, "sk-never-printed")
	cfgPath := writeConfig(t, `
[refiner]
provider = "openai"
base_url = "http://127.0.0.1:1/v1"
model = "m"
timeout = "2s"
max_retries = 0
`)
	dir := photoTree(t, map[string]string{"a.jpg": "tabby"})
	code, out, errOut := runCLI(dp, "caption", "--config", cfgPath, "--network", "linkedin", filepath.Join(dir, "a.jpg"))
	if code != exitOK || !strings.Contains(out, "(linkedin, offline)") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "refiner=offline") || strings.Contains(errOut+out, "sk-never-printed") {
		t.Errorf("stderr = %q", errOut)
	}
}
