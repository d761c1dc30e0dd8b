package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Chart is the JSON input: named runs with their dev scores, and optional
// goals. Score keys are those of "captionbot eval --json" (bleu1, bleu2,
// bleu3, bleu4, meteor, rougeL, ciderD, distinct, chair_s, chair_i, images), so its output can
// be pasted as a run's scores; keys the chart does not draw are kept but
// ignored.
type Chart struct {
	// Title heads the chart.
	Title string `json:"title"`
	// Runs are drawn top to bottom in this order.
	Runs []Run `json:"runs"`
	// Goals are drawn as dashed lines, e.g. the resolve thresholds.
	Goals map[string]float64 `json:"goals,omitempty"`
}

// Run is one row of the chart.
type Run struct {
	Name string `json:"name"`
	// Kind is "reference" (a published or calibration point, drawn grey) or
	// "ours" (drawn in colour).
	Kind string `json:"kind"`
	// Note says where the numbers come from (shown as the row's tooltip).
	Note   string             `json:"note,omitempty"`
	Scores map[string]float64 `json:"scores"`
}

// metric is one panel of the chart.
type metric struct{ key, label string }

// chartMetrics are the panels, left to right.
var chartMetrics = []metric{
	{"bleu1", "BLEU-1"}, {"bleu4", "BLEU-4"}, {"ciderD", "CIDEr-D"}, {"meteor", "METEOR"}, {"rougeL", "ROUGE-L"},
	{"chair_s", "CHAIRs"}, {"chair_i", "CHAIRi"},
}

// ReadChart decodes and checks the JSON input.
func ReadChart(r io.Reader) (*Chart, error) {
	var c Chart
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("scores JSON: %w", err)
	}
	if len(c.Runs) == 0 {
		return nil, errors.New("scores JSON: no runs")
	}
	for i, run := range c.Runs {
		if strings.TrimSpace(run.Name) == "" {
			return nil, fmt.Errorf("scores JSON: run %d has no name", i+1)
		}
		if run.Kind != "reference" && run.Kind != "ours" {
			return nil, fmt.Errorf("scores JSON: run %q: kind is %q, want \"reference\" or \"ours\"", run.Name, run.Kind)
		}
		for k, v := range run.Scores {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("scores JSON: run %q: %s = %v, want a score ≥ 0", run.Name, k, v)
			}
		}
	}
	for k, v := range c.Goals {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, fmt.Errorf("scores JSON: goal %s = %v, want a score ≥ 0", k, v)
		}
	}
	return &c, nil
}

// Layout, in SVG user units.
const (
	marginX     = 16.0
	labelWidth  = 250.0
	panelWidth  = 150.0
	panelGap    = 18.0
	titleHeight = 34.0
	headHeight  = 24.0
	rowHeight   = 26.0
	axisHeight  = 30.0
	legendH     = 26.0
	dotRadius   = 5.0
)

// Colours of the two kinds of run, and of goals.
const (
	colourReference = "#8c8c8c"
	colourOurs      = "#1f77b4"
	colourGoal      = "#d62728"
)

// scaleMax is a panel's axis end: the largest value shown (run or goal)
// rounded up to the next 0.1, at least 0.1.
func scaleMax(c *Chart, key string) float64 {
	m := c.Goals[key]
	for _, r := range c.Runs {
		if v, ok := r.Scores[key]; ok {
			m = max(m, v)
		}
	}
	return max(0.1, math.Ceil(m*10-1e-9)/10)
}

// svgWriter accumulates SVG text in memory; Render writes it out once.
type svgWriter struct {
	buf bytes.Buffer
}

func (w *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&w.buf, format, args...) }

// esc escapes text for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder: cannot fail
	return b.String()
}

// Render writes c as a standalone SVG document.
func Render(out io.Writer, c *Chart) error {
	w := &svgWriter{}
	nRuns := float64(len(c.Runs))
	width := 2*marginX + labelWidth + float64(len(chartMetrics))*(panelWidth+panelGap)
	plotTop := titleHeight + headHeight
	plotBottom := plotTop + nRuns*rowHeight
	height := plotBottom + axisHeight + legendH

	w.printf(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	w.printf(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Helvetica, Arial, sans-serif" font-size="12">`+"\n",
		width, height, width, height)
	w.printf(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	w.printf(`<text x="%.1f" y="22" font-size="16" font-weight="bold">%s</text>`+"\n", marginX, esc(c.Title))

	// Row labels and zebra stripes.
	for i, r := range c.Runs {
		y := plotTop + float64(i)*rowHeight
		if i%2 == 0 {
			w.printf(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#f4f4f4"/>`+"\n", marginX, y, width-2*marginX, rowHeight)
		}
		colour := colourReference
		if r.Kind == "ours" {
			colour = colourOurs
		}
		w.printf(`<text x="%.1f" y="%.1f" fill="%s"><title>%s</title>%s</text>`+"\n",
			marginX+4, y+rowHeight/2+4, colour, esc(r.Note), esc(r.Name))
	}

	for p, m := range chartMetrics {
		x0 := marginX + labelWidth + float64(p)*(panelWidth+panelGap)
		top := scaleMax(c, m.key)
		xOf := func(v float64) float64 { return x0 + v/top*panelWidth }
		w.printf(`<g class="panel" data-metric="%s">`+"\n", m.key)
		w.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-weight="bold">%s</text>`+"\n", x0+panelWidth/2, titleHeight+14, m.label)
		// Axis with ticks at 0, top/2, top.
		w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`+"\n", x0, plotBottom, x0+panelWidth, plotBottom)
		for _, t := range []float64{0, top / 2, top} {
			w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", xOf(t), plotTop, xOf(t), plotBottom)
			w.printf(`<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`+"\n", xOf(t), plotBottom+14, trimFloat(t))
		}
		if g, ok := c.Goals[m.key]; ok {
			w.printf(`<line class="goal" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"><title>goal %s</title></line>`+"\n",
				xOf(g), plotTop, xOf(g), plotBottom, colourGoal, trimFloat(g))
		}
		for i, r := range c.Runs {
			cy := plotTop + float64(i)*rowHeight + rowHeight/2
			v, ok := r.Scores[m.key]
			if !ok {
				w.printf(`<text x="%.1f" y="%.1f" fill="#bbb" font-size="10">n/a</text>`+"\n", x0, cy+4)
				continue
			}
			colour := colourReference
			if r.Kind == "ours" {
				colour = colourOurs
			}
			w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" opacity="0.35"/>`+"\n", x0, cy, xOf(v), cy, colour)
			w.printf(`<circle class="score" cx="%.1f" cy="%.1f" r="%.0f" fill="%s"><title>%s %s: %.3f</title></circle>`+"\n",
				xOf(v), cy, dotRadius, colour, esc(r.Name), m.label, v)
			// The value, right of the dot, or left of it near the axis end.
			tx, anchor := xOf(v)+dotRadius+3, "start"
			if xOf(v) > x0+panelWidth*0.7 {
				tx, anchor = xOf(v)-dotRadius-3, "end"
			}
			w.printf(`<text x="%.1f" y="%.1f" text-anchor="%s" font-size="10">%.3f</text>`+"\n", tx, cy+4, anchor, v)
		}
		w.printf("</g>\n")
	}

	// Legend.
	ly := plotBottom + axisHeight + 8
	w.printf(`<circle cx="%.1f" cy="%.1f" r="%.0f" fill="%s"/><text x="%.1f" y="%.1f">our runs</text>`+"\n", marginX+6, ly, dotRadius, colourOurs, marginX+16, ly+4)
	w.printf(`<circle cx="%.1f" cy="%.1f" r="%.0f" fill="%s"/><text x="%.1f" y="%.1f">reference points</text>`+"\n", marginX+96, ly, dotRadius, colourReference, marginX+106, ly+4)
	if len(c.Goals) > 0 {
		w.printf(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-dasharray="4 3"/><text x="%.1f" y="%.1f">goal</text>`+"\n",
			marginX+226, ly-6, marginX+226, ly+6, colourGoal, marginX+234, ly+4)
	}
	w.printf("</svg>\n")
	_, err := out.Write(w.buf.Bytes())
	return err
}

// trimFloat prints a tick value without trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}
