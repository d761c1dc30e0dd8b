package captioner

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/captionbot/captionbot/bot"
)

var dumpList = flag.String("dump-list", "", "")
var dumpOut = flag.String("dump-out", "", "")

func TestZZDump(t *testing.T) {
	if *dumpList == "" {
		t.Skip()
	}
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, _ := os.ReadFile(*dumpList)
	out, _ := os.Create(*dumpOut)
	w := bufio.NewWriter(out)
	defer func() { w.Flush(); out.Close() }()
	for _, p := range strings.Fields(string(raw)) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Describe(context.Background(), data)
		if err != nil {
			t.Fatal(err)
		}
		img, _ := DecodeImage(data)
		img2, _ := DecodeImage(data)
		_ = img2
		bufp := make([]float32, InputLen)
		Preprocess(img, bufp)
		encs, _, _ := c.encode(context.Background(), bufp, 1)
		probs, _ := c.words.probs(encs[0].Pooled, 1)
		rec := struct {
			Image   string             `json:"image"`
			Raw     string             `json:"raw"`
			Objects []bot.Object       `json:"objects"`
			Labels  []bot.Label        `json:"labels"`
			Words   map[string]float64 `json:"words"`
			W, H    int
		}{filepath.Base(p), d.RawCaption, d.Objects, d.Labels, probs[0], img.Bounds().Dx(), img.Bounds().Dy()}
		b, _ := json.Marshal(rec)
		w.Write(append(b, '\n'))
	}
}
