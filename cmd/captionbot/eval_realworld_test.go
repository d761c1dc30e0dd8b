package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner/metrics"
)

// captionAndRaw describes a "photo" whose text is "caption|raw caption".
type captionAndRaw struct{}

func (captionAndRaw) Describe(_ context.Context, img []byte) (bot.Description, error) {
	caption, raw, _ := strings.Cut(string(img), "|")
	return bot.Description{Caption: caption, RawCaption: raw}, nil
}

// realWorldManifest is a three-photo set.
const realWorldManifest = `{"version": 1, "photos": [
 {"file": "giraffe.jpg", "subjects": [["giraffe"], ["zebra"]], "present": ["grass", "tree"],
  "source": {"package": "p", "version": "1", "path": "/g.jpg"}, "licence": "CC0"},
 {"file": "dog.jpg", "subjects": [["dog", "puppy"]], "present": ["grass"],
  "source": {"package": "p", "version": "1", "path": "/d.jpg"}, "licence": "CC0"},
 {"file": "cat.jpg", "subjects": [["cat", "kitten"]], "present": [], "absent": ["sofa"],
  "source": {"package": "p", "version": "1", "path": "/c.jpg"}, "licence": "CC0"}
]}`

// realWorldDir writes the manifest and a "photo" per file.
func realWorldDir(t *testing.T, photos map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range photos {
		writeFile(t, dir, name, text)
	}
	return writeFile(t, dir, "photos.json", realWorldManifest)
}

func TestEvalRealWorldJSON(t *testing.T) {
	dp, _ := useDescriber(t, captionAndRaw{})
	manifest := realWorldDir(t, map[string]string{
		"giraffe.jpg": "a giraffe and a zebra stand in the grass|a dog runs through the grass",
		"dog.jpg":     "two puppies play with a ball|a dog plays with a ball",
		"cat.jpg":     "a man sits on a bench|a kitten on a sofa",
	})
	code, stdout, stderr := runEvalArgs(t, dp, "--realworld", manifest, "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if strings.Count(stdout, "\n") != 1 {
		t.Errorf("want one JSON line, got:\n%s", stdout)
	}
	var got realWorldJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got.Network != "instagram" || got.Refiner != "offline" {
		t.Errorf("network %q, refiner %q; want instagram, offline", got.Network, got.Refiner)
	}
	if diff := cmp.Diff([]string{"caption", "raw_caption", "alt_text", "post"}, got.Texts); diff != "" {
		t.Errorf("texts (-want +got):\n%s", diff)
	}
	tot := func(name string) metrics.RealWorldScores { return got.Totals[name].RealWorldScores }
	// caption: giraffe right; dog names the puppies and a ball; cat misses
	// the cat and names a man and a bench.
	if want := (metrics.RealWorldScores{Photos: 3, Right: 1, Hallucinated: 2, Subjects: 4, Named: 3}); tot("caption") != want {
		t.Errorf("caption totals %+v, want %+v", tot("caption"), want)
	}
	if c := got.Totals["caption"]; c.RightRate != 1.0/3 || c.HallucinatedRate != 2.0/3 || c.SubjectRecall != 0.75 {
		t.Errorf("caption rates %+v", c)
	}
	// raw caption: a dog for the giraffe; dog with a ball; the cat's sofa
	// is the photo's own absent word.
	if want := (metrics.RealWorldScores{Photos: 3, Right: 0, Hallucinated: 3, Subjects: 4, Named: 2}); tot("raw_caption") != want {
		t.Errorf("raw caption totals %+v, want %+v", tot("raw_caption"), want)
	}
	if len(got.Photos) != 3 || got.Photos[0].File != "giraffe.jpg" || got.Photos[2].File != "cat.jpg" {
		t.Fatalf("photos not in manifest order: %+v", got.Photos)
	}
	cat := got.Photos[2]
	wantCat := realWorldCheckJSON{Right: false, TextCheck: metrics.TextCheck{
		Named: []string{}, Missed: []string{"cat"}, Hallucinated: []string{"man", "bench"}}}
	if diff := cmp.Diff(wantCat, cat.Checks["caption"]); diff != "" {
		t.Errorf("cat caption check (-want +got):\n%s", diff)
	}
	if cat.Texts["raw_caption"] != "a kitten on a sofa" || !cmp.Equal(cat.Checks["raw_caption"].Hallucinated, []string{"sofa"}) {
		t.Errorf("cat raw caption: %q %+v", cat.Texts["raw_caption"], cat.Checks["raw_caption"])
	}
	// The post and alt text are the offline refiner's: their totals are
	// their checks added up, and the post carries hashtags.
	for _, name := range []string{"alt_text", "post"} {
		var want metrics.RealWorldScores
		set, err := readRealWorldSet(manifest)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range got.Photos {
			if p.Texts[name] == "" {
				t.Errorf("%s: empty %s", p.File, name)
			}
			c := set.Photos[i].Check(p.Texts[name])
			if diff := cmp.Diff(realWorldCheckJSON{Right: c.Right(), TextCheck: c}, p.Checks[name]); diff != "" {
				t.Errorf("%s %s check (-want +got):\n%s", p.File, name, diff)
			}
			want.Add(c)
		}
		if tot(name) != want {
			t.Errorf("%s totals %+v, want %+v", name, tot(name), want)
		}
	}
	if !strings.Contains(got.Photos[0].Texts["post"], "#") {
		t.Errorf("post without hashtags: %q", got.Photos[0].Texts["post"])
	}
	if !strings.Contains(stderr, "captioned 3 photos") {
		t.Errorf("stderr:\n%s", stderr)
	}
}

func TestEvalRealWorldTable(t *testing.T) {
	dp, _ := useDescriber(t, captionByText{}) // no raw caption: no raw caption row
	manifest := realWorldDir(t, map[string]string{
		"giraffe.jpg": "a giraffe and a zebra stand in the grass",
		"dog.jpg":     "a dog",
		"cat.jpg":     "a dog on a sofa",
	})
	code, stdout, stderr := runEvalArgs(t, dp, "--realworld", manifest, "--network", "x")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		"giraffe.jpg\n  caption:     ok a giraffe and a zebra stand in the grass\n",
		"cat.jpg\n  caption:     -- a dog on a sofa\n                  (missed cat; hallucinated dog, sofa)\n",
		"3 photos, posts for x (offline refiner)",
		"caption           2 (66.7%)      1 (33.3%)          3/4 (75.0%)",
		"alt text", "post",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "raw caption") {
		t.Errorf("no raw captions, but a raw caption row:\n%s", stdout)
	}
}

func TestEvalRealWorldBadInputExits2(t *testing.T) {
	dp, _ := useDescriber(t, captionByText{})
	manifest := realWorldDir(t, map[string]string{"giraffe.jpg": "a giraffe", "dog.jpg": "a dog"}) // no cat.jpg
	bad := writeFile(t, t.TempDir(), "bad.json", `{"version": 1, "photos": []}`)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing photo", []string{"--realworld", manifest}, "1 photos of " + manifest + " are missing"},
		{"bad manifest", []string{"--realworld", bad}, "no photos"},
		{"no manifest", []string{"--realworld", "/nonexistent/photos.json"}, "no such file"},
		{"unknown network", []string{"--realworld", manifest, "--network", "myspace"}, "--network"},
		{"with --images", []string{"--realworld", manifest, "--images", "."}, "--realworld does not go with"},
		{"network alone", []string{"--network", "x", "--captions", "c", "--split", "s"}, "--network goes with --realworld"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runEvalArgs(t, dp, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) || stdout != "" {
				t.Errorf("exit %d, want %d; stderr %q, want %q; stdout %q", code, exitUsage, stderr, c.want, stdout)
			}
		})
	}
}
