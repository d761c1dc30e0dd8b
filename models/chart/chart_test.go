package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// svgElements parses an SVG document with encoding/xml and counts its
// elements by name (and circles by class), failing on malformed XML.
func svgElements(t *testing.T, doc []byte) (map[string]int, string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	counts := map[string]int{}
	var text strings.Builder
	root := ""
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = el.Name.Space + " " + el.Name.Local
			}
			counts[el.Name.Local]++
			for _, a := range el.Attr {
				if a.Name.Local == "class" {
					counts[el.Name.Local+"."+a.Value]++
				}
			}
		case xml.CharData:
			text.Write(el)
			text.WriteByte('\n')
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Fatalf("root element is %q, want an SVG svg element", root)
	}
	return counts, text.String()
}

func TestRenderCommittedScores(t *testing.T) {
	f, err := os.Open("../scores.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ReadChart(f)
	if err != nil {
		t.Fatal(err)
	}
	// Our run, pasted from "captionbot eval --json" (with keys the chart
	// does not draw), and a name that needs escaping.
	c.Runs = append(c.Runs, Run{Name: `merge <baseline> & "beam 3"`, Kind: "ours", Scores: map[string]float64{
		"bleu1": 0.55, "bleu2": 0.35, "bleu3": 0.22, "bleu4": 0.14, "meteor": 0.18,
		"rougeL": 0.41, "ciderD": 0.33, "distinct": 0.31, "images": 1000,
	}})
	var buf bytes.Buffer
	if err := Render(&buf, c); err != nil {
		t.Fatal(err)
	}
	counts, text := svgElements(t, buf.Bytes())

	// One dot per drawn (run, metric) pair with a value.
	dots := 0
	for _, r := range c.Runs {
		for _, m := range chartMetrics {
			if _, ok := r.Scores[m.key]; ok {
				dots++
			}
		}
	}
	if counts["circle.score"] != dots {
		t.Errorf("%d score dots, want %d", counts["circle.score"], dots)
	}
	if counts["g.panel"] != len(chartMetrics) {
		t.Errorf("%d panels, want %d", counts["g.panel"], len(chartMetrics))
	}
	if counts["line.goal"] != len(c.Goals) {
		t.Errorf("%d goal lines, want %d", counts["line.goal"], len(c.Goals))
	}
	for _, want := range []string{"BLEU-1", "CIDEr-D", "ROUGE-L", "Show, Attend and Tell (hard)", `merge <baseline> & "beam 3"`, "0.790", "0.550"} {
		if !strings.Contains(text, want) {
			t.Errorf("SVG text lacks %q", want)
		}
	}
}

func TestReadChartErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not JSON":      "{",
		"no runs":       `{"title":"x","runs":[]}`,
		"unknown field": `{"title":"x","rnus":[]}`,
		"no name":       `{"runs":[{"name":" ","kind":"ours","scores":{}}]}`,
		"bad kind":      `{"runs":[{"name":"a","kind":"mine","scores":{}}]}`,
		"negative":      `{"runs":[{"name":"a","kind":"ours","scores":{"bleu1":-0.1}}]}`,
		"bad goal":      `{"goals":{"bleu1":-1},"runs":[{"name":"a","kind":"ours","scores":{}}]}`,
	} {
		if _, err := ReadChart(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRunWritesSVG(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "scores.json")
	out := filepath.Join(dir, "chart.svg")
	if err := os.WriteFile(in, []byte(`{"title":"t","runs":[{"name":"a","kind":"ours","scores":{"bleu1":0.5}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-in", in, "-out", out}, io.Discard, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	doc, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if counts, _ := svgElements(t, doc); counts["circle.score"] != 1 {
		t.Errorf("want one dot, got %d", counts["circle.score"])
	}
	if code := run([]string{"-in", filepath.Join(dir, "missing.json")}, io.Discard, &stderr); code != 2 {
		t.Errorf("missing input: exit %d, want 2", code)
	}
}
