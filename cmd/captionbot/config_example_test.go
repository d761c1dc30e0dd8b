package main

import (
	"bufio"
	"encoding"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleConfig is the committed example configuration.
var exampleConfig = filepath.Join("..", "..", "config.example.toml")

// hermeticConfigEnv clears the environment variables that override config
// keys, so the machine's environment does not change what a test loads.
func hermeticConfigEnv(t *testing.T) {
	t.Helper()
	for _, env := range []string{envTelegramToken, envTelegramSecret, envDiscordToken, envOpenAIKey, envStoreDSN} {
		t.Setenv(env, "")
	}
}

// TestConfigExampleIsTheDefaults: the example loads (loadConfig rejects
// unknown keys), and the values it sets are the built-in defaults, as its
// header promises.
func TestConfigExampleIsTheDefaults(t *testing.T) {
	hermeticConfigEnv(t)
	got, err := loadConfig(exampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	// Relative paths in a file are relative to its folder.
	want.Store.Path = resolvePath(filepath.Dir(exampleConfig), want.Store.Path)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config.example.toml sets values other than the defaults (-default +example):\n%s", diff)
	}
}

// TestConfigExampleDocumentsEveryKey: every key of the config struct appears
// in config.example.toml, set or commented out, in its section; and every
// commented-out key there is a real key (set keys are checked by loadConfig).
func TestConfigExampleDocumentsEveryKey(t *testing.T) {
	documented := exampleKeys(t, exampleConfig)
	known := tomlKeys(reflect.TypeFor[config](), "")
	if len(known) < 10 {
		t.Fatalf("found only %d keys in the config struct: %v", len(known), known)
	}
	for _, k := range known {
		if !documented[k] {
			t.Errorf("key %s is not in config.example.toml", k)
		}
	}
	for k := range documented {
		if !slices.Contains(known, k) {
			t.Errorf("config.example.toml documents %s, which the config struct does not have", k)
		}
	}
}

func TestTOMLKeysWalksNestedSections(t *testing.T) {
	type inner struct {
		Deep int `toml:"deep"`
	}
	type outer struct {
		Plain   string   `toml:"plain"`
		Wait    duration `toml:"wait"` // a text value, not a table
		Inner   inner    `toml:"inner"`
		Skipped int      `toml:"-"`
		Untyped int
	}
	got := tomlKeys(reflect.TypeFor[outer](), "s")
	want := []string{"s.plain", "s.wait", "s.inner.deep", "s.Untyped"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tomlKeys (-want +got):\n%s", diff)
	}
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// tomlKeys lists the dotted TOML keys of struct type t (under prefix),
// descending into struct fields that are tables rather than text values.
func tomlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if prefix != "" {
			name = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(textUnmarshaler) {
			keys = append(keys, tomlKeys(f.Type, name)...)
			continue
		}
		keys = append(keys, name)
	}
	return keys
}

var (
	tableLine = regexp.MustCompile(`^\s*\[\s*([A-Za-z0-9_.]+)\s*\]\s*(#.*)?$`)
	keyLine   = regexp.MustCompile(`^\s*(#\s*)?([A-Za-z0-9_]+)\s*=`)
)

// exampleKeys returns the dotted keys that a TOML file sets or shows
// commented out ("# key = value") under its [table] headers.
func exampleKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string]bool{}
	table := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := tableLine.FindStringSubmatch(line); m != nil {
			table = m[1]
			continue
		}
		if m := keyLine.FindStringSubmatch(line); m != nil {
			key := m[2]
			if table != "" {
				key = table + "." + key
			}
			keys[key] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
