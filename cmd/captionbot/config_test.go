package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "captionbot.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	want := captionerConfig{Encoder: "float", OptimizedModelCache: true, Beam: 3, MaxLen: 20, LengthAlpha: 0.7, TopLabels: 5, DecodeMemoryMB: 192}
	if diff := cmp.Diff(want, cfg.Captioner); diff != "" {
		t.Errorf("default [captioner] (-want +got):\n%s", diff)
	}
}

func TestLoadConfigCaptioner(t *testing.T) {
	p := writeConfig(t, `
[captioner]
model_dir = "models"
onnxruntime_library = "/opt/ort/libonnxruntime.so"
encoder = "int8"
sessions = 2
intra_op_threads = 1
spin_wait = true
optimized_model_cache = false
top_labels = 3
decode_memory_mb = 400
`)
	cfg, err := loadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := captionerConfig{
		ModelDir:           filepath.Join(filepath.Dir(p), "models"), // relative to the file
		ONNXRuntimeLibrary: "/opt/ort/libonnxruntime.so",
		Encoder:            "int8",
		Sessions:           2, IntraOpThreads: 1, SpinWait: true, Beam: 3, MaxLen: 20, LengthAlpha: 0.7, TopLabels: 3,
		DecodeMemoryMB: 400,
	}
	if diff := cmp.Diff(want, cfg.Captioner); diff != "" {
		t.Errorf("[captioner] (-want +got):\n%s", diff)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"unknown keys", "[captioner]\nsesions = 2\n[nope]\nx = 1\n", []string{"unknown keys", "captioner.sesions", "nope.x"}},
		{"bad value", "[captioner]\nsessions = -1\n", []string{"captioner.sessions is -1"}},
		{"negative threads", "[captioner]\nintra_op_threads = -1\n", []string{"captioner.intra_op_threads"}},
		{"length alpha", "[captioner]\nlength_alpha = 3\n", []string{"captioner.length_alpha is 3"}},
		{"encoder", "[captioner]\nencoder = \"int4\"\n", []string{`captioner.encoder is "int4"`}},
		{"wrong type", "[captioner]\nsessions = \"two\"\n", []string{"sessions"}},
		{"syntax", "[captioner\n", []string{"captionbot.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(writeConfig(t, tc.text))
			if err == nil {
				t.Fatal("loadConfig accepted a bad file")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := loadConfig(filepath.Join(t.TempDir(), "missing.toml")); err == nil {
		t.Error("loadConfig accepted a missing file")
	}
}

// TestConfigExample: the committed example loads (every key known).
func TestConfigExample(t *testing.T) {
	if _, err := loadConfig(filepath.Join("..", "..", "config.example.toml")); err != nil {
		t.Fatal(err)
	}
}
