// Command chart draws our dev-split caption scores beside reference points
// as an SVG dot chart (one panel per metric: BLEU-1, BLEU-4, CIDEr-D,
// METEOR, ROUGE-L):
//
//	go run ./models/chart -in models/scores.json -out models/dev-scores.svg
//
// The input format is Chart (see chart.go); a run's "scores" object can be
// the output of "captionbot eval --json".
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("chart", flag.ContinueOnError)
	fl.SetOutput(stderr)
	in := fl.String("in", "models/scores.json", "scores `JSON` file")
	out := fl.String("out", "models/dev-scores.svg", "SVG file to write (- for stdout)")
	if err := fl.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	f, err := os.Open(*in)
	if err != nil {
		fmt.Fprintf(stderr, "chart: %v\n", err)
		return 2
	}
	defer f.Close()
	c, err := ReadChart(f)
	if err != nil {
		fmt.Fprintf(stderr, "chart: %s: %v\n", *in, err)
		return 2
	}
	var buf bytes.Buffer
	if err := Render(&buf, c); err != nil {
		fmt.Fprintf(stderr, "chart: %v\n", err)
		return 1
	}
	if *out == "-" {
		_, err = stdout.Write(buf.Bytes())
	} else {
		err = os.WriteFile(*out, buf.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "chart: %v\n", err)
		return 1
	}
	return 0
}
