// Package cite reads a model's short texts that cite pull requests — a
// release's highlights, a deploy's summary — and keeps them only when
// every number they cite, in their list or in their words (GitHub links
// any "#123"), is one ferry knows is there. It also writes the list a
// model reads, one JSON line per change, within a size.
package cite

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Text is one text and the pull requests it cites.
type Text struct {
	Text string
	PRs  []int
}

// numberRef is a "#123" in a model's text.
var numberRef = regexp.MustCompile(`#(\d+)`)

// otherRefs are the other forms GitHub links in text: an issue as GH-123,
// another repository's as owner/repo#123, and a commit by a hex run (one
// with a digit: words like "defaced" are hex too).
var (
	otherRefs = regexp.MustCompile(`(?i)\bGH-\d+|[\w.-]+/[\w.-]+#\d+`)
	hexRun    = regexp.MustCompile(`(?i)\b[0-9a-f]{7,40}\b`)
)

// AnyRef is the first reference in text GitHub would link — #123,
// GH-123, owner/repo#123, a commit — or "": for texts that should cite
// nothing.
func AnyRef(text string) string {
	if m := numberRef.FindString(text); m != "" {
		return m
	}
	return foreignRef(text)
}

// foreignRef is a reference GitHub would link that is not one of the
// changes, or "".
func foreignRef(text string) string {
	if m := otherRefs.FindString(text); m != "" {
		return m
	}
	for _, m := range hexRun.FindAllString(text, -1) {
		if strings.ContainsAny(m, "0123456789") {
			return m
		}
	}
	return ""
}

// Schema is the JSON Schema of what Parse reads: an object whose field
// holds minItems to maxItems texts, each citing 1 to maxPRs pull requests.
func Schema(field string, minItems, maxItems, maxPRs int) json.RawMessage {
	obj := func(props map[string]any, required ...string) map[string]any {
		return map[string]any{"type": "object", "additionalProperties": false, "required": required, "properties": props}
	}
	list := map[string]any{"type": "array", "minItems": minItems, "maxItems": maxItems, "items": obj(map[string]any{
		"text": map[string]any{"type": "string", "minLength": 1},
		"prs":  map[string]any{"type": "array", "minItems": 1, "maxItems": maxPRs, "items": map[string]any{"type": "integer", "minimum": 1}},
	}, "text", "prs")}
	b, err := json.Marshal(obj(map[string]any{field: list}, field))
	if err != nil {
		panic(err) // maps of strings and numbers always marshal
	}
	return b
}

// Parse reads {"<field>": [{"text", "prs"}]} and keeps at most max texts,
// each made one line of at most clip characters. It fails on a text citing
// a pull request not in known, so the caller's model is asked again with
// the reason; a text that cites none is dropped.
func Parse(answer []byte, field string, max, clip int, known map[int]bool) ([]Text, error) {
	var got map[string][]struct {
		Text string `json:"text"`
		PRs  []int  `json:"prs"`
	}
	if err := json.Unmarshal(answer, &got); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	items := got[field]
	var out []Text
	for i, it := range items[:min(len(items), max)] {
		if ref := foreignRef(it.Text); ref != "" {
			return nil, fmt.Errorf("%s[%d] names %q, which GitHub would link: cite pull requests only as #number from the data", field, i, ref)
		}
		cited := slices.Clone(it.PRs)
		for _, m := range numberRef.FindAllStringSubmatch(it.Text, -1) {
			n, _ := strconv.Atoi(m[1])
			cited = append(cited, n)
		}
		for _, n := range cited {
			if !known[n] {
				return nil, fmt.Errorf("%s[%d] cites #%d, which is not among the changes: cite only numbers the data lists as \"pr\"", field, i, n)
			}
		}
		if text := Clip(it.Text, clip); text != "" && len(it.PRs) > 0 {
			prs := slices.Clone(it.PRs)
			slices.Sort(prs)
			out = append(out, Text{Text: text, PRs: slices.Compact(prs)})
		}
	}
	return out, nil
}

// Lines writes items as JSON lines within maxBytes, saying how many more
// were left out.
func Lines[T any](items []T, maxBytes int) string {
	var b strings.Builder
	for i, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			continue // plain structs of strings and numbers: not reached
		}
		if b.Len()+len(line) > maxBytes {
			fmt.Fprintf(&b, "(%d more changes not shown)\n", len(items)-i)
			break
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// ByPR orders pull request numbers ascending, 0 (no pull request) last.
func ByPR(x, y int) int {
	switch {
	case x == y:
		return 0
	case x == 0:
		return 1
	case y == 0:
		return -1
	}
	return x - y
}

// Clip makes s one line of at most n characters.
func Clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
