package ground_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/bot"
	"github.com/captionbot/captionbot/captioner/ground"
	"github.com/captionbot/captionbot/captioner/metrics"
)

type rec struct {
	Image   string             `json:"image"`
	Raw     string             `json:"raw"`
	Objects []bot.Object       `json:"objects"`
	Labels  []bot.Label        `json:"labels"`
	Words   map[string]float64 `json:"words"`
	W, H    int
}

func load(t *testing.T, p string) []rec {
	f, err := os.Open(p)
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	var out []rec
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r rec
		json.Unmarshal(sc.Bytes(), &r)
		out = append(out, r)
	}
	return out
}

func TestZZTune(t *testing.T) {
	if os.Getenv("TUNE") == "" {
		t.Skip()
	}
	opt := ground.Options{}
	if v := os.Getenv("OPT"); v != "" {
		json.Unmarshal([]byte(v), &opt)
	}
	dev := load(t, "/tmp/dev_dump.jsonl")
	if len(dev) > 0 {
		tf, _ := os.Open("/work/shared/flickr8k/Flickr8k.token.txt")
		all, _, _ := metrics.ReadTokenFile(tf)
		cands := map[string]string{}
		raws := map[string]string{}
		refs := map[string][]string{}
		for _, r := range dev {
			g := ground.Ground(r.Raw, ground.Evidence{Objects: r.Objects, Labels: r.Labels, Words: r.Words, Width: r.W, Height: r.H}, opt)
			cands[r.Image] = g.Caption
			raws[r.Image] = r.Raw
			refs[r.Image] = all[r.Image]
		}
		s, _ := metrics.Evaluate(cands, refs)
		fmt.Printf("dev %d: B4 %.4f CIDEr %.4f METEOR %.4f CHAIRs %.4f CHAIRi %.4f distinct %.3f\n", len(dev), s.BLEU[3], s.CIDErD, s.METEOR, s.CHAIR.Sentences, s.CHAIR.Instances, s.Distinct)
		if os.Getenv("RAW") != "" {
			s, _ := metrics.Evaluate(raws, refs)
			fmt.Printf("raw %d: B4 %.4f CIDEr %.4f METEOR %.4f CHAIRs %.4f CHAIRi %.4f\n", len(dev), s.BLEU[3], s.CIDErD, s.METEOR, s.CHAIR.Sentences, s.CHAIR.Instances)
		}
	}
	rw := load(t, "/tmp/rw_dump.jsonl")
	mf, _ := os.Open("/work/main/testdata/realworld/photos.json")
	set, _ := metrics.ReadRealWorld(mf)
	byFile := map[string]metrics.RealWorldPhoto{}
	for _, p := range set.Photos {
		byFile[p.File] = p
	}
	var sc metrics.RealWorldScores
	for _, r := range rw {
		g := ground.Ground(r.Raw, ground.Evidence{Objects: r.Objects, Labels: r.Labels, Words: r.Words, Width: r.W, Height: r.H}, opt)
		c := byFile[r.Image].Check(g.Caption)
		sc.Add(c)
		if os.Getenv("V") != "" && !c.Right() {
			fmt.Printf("  %-32s %-60s miss %v hall %v\n", r.Image, g.Caption, c.Missed, c.Hallucinated)
		}
	}
	fmt.Printf("realworld %d: right %.3f halluc %.3f recall %.3f\n", sc.Photos, sc.RightRate(), sc.HallucinatedRate(), sc.SubjectRecall())
	_ = strings.Join
}

func TestZZShow(t *testing.T) {
	if os.Getenv("SHOW") == "" {
		t.Skip()
	}
	opt := ground.Options{}
	if v := os.Getenv("OPT"); v != "" {
		json.Unmarshal([]byte(v), &opt)
	}
	n := 0
	for _, r := range load(t, "/tmp/dev_dump.jsonl") {
		g := ground.Ground(r.Raw, ground.Evidence{Objects: r.Objects, Labels: r.Labels, Words: r.Words, Width: r.W, Height: r.H}, opt)
		if g.Caption != r.Raw && (os.Getenv("SHOW") != "rew" || g.Rewritten) {
			n++
			fmt.Printf("%-70s => %s\n", r.Raw, g.Caption)
		}
	}
	fmt.Println(n)
}
