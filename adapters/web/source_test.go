package web

import (
	"os"
	"regexp"
)

func readSource(name string) (string, error) {
	b, err := os.ReadFile(name)
	return string(b), err
}

// codeLiteral finds error codes in the handlers' source: a snake_case
// literal passed next to a status.
var codeLiteral = regexp.MustCompile(`(?:code: |Status[A-Za-z]+, )"([a-z_]+)"`)

func quotedCodes(src string) []string {
	var out []string
	for _, m := range codeLiteral.FindAllStringSubmatch(src, -1) {
		out = append(out, m[1])
	}
	return out
}
