// Package change is a code change as data — files with their status, size
// and patch, commits, author — and the classes of its paths (migration,
// auth, infrastructure, …). Pure: no I/O.
package change

import (
	"bufio"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Status of a file in a change.
type Status string

// File statuses.
const (
	Added    Status = "added"
	Modified Status = "modified"
	Removed  Status = "removed"
	Renamed  Status = "renamed"
)

// File is one changed file.
type File struct {
	Path         string
	PreviousPath string // for renames
	Status       Status
	Additions    int
	Deletions    int
	Patch        string // unified diff hunks; empty for binary or very large files
	// Size is the file's bytes (the old version's for a removal) when the
	// source tells it (git does; GitHub's files API does not): 0 unknown.
	Size int64
}

// Commit is one commit of a change.
type Commit struct {
	SHA     string
	Subject string
	Author  string
	Email   string // the author's email, lowercased: what the risk model knows authors by
	Date    time.Time
}

// Change is what a pull request or push changes.
type Change struct {
	Base, Head string
	Author     string
	Files      []File
	Commits    []Commit
	// Truncated: the source listed only part of the files (GitHub's 3,000
	// cap); the assessment says so.
	Truncated bool
}

// Additions is the total of lines added.
func (c Change) Additions() int {
	n := 0
	for _, f := range c.Files {
		n += f.Additions
	}
	return n
}

// Deletions is the total of lines deleted.
func (c Change) Deletions() int {
	n := 0
	for _, f := range c.Files {
		n += f.Deletions
	}
	return n
}

// Line is a line a patch adds, with its number in the new file.
type Line struct {
	Number int
	Text   string
}

// AddedLines returns the lines a unified-diff patch adds.
func AddedLines(patch string) []Line {
	var (
		out  []Line
		next int // number of the next line in the new file
	)
	sc := bufio.NewScanner(strings.NewReader(patch))
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "@@"):
			next = hunkStart(l)
		case strings.HasPrefix(l, "+++"), strings.HasPrefix(l, "---") && next == 0:
		case strings.HasPrefix(l, "+"):
			out = append(out, Line{Number: next, Text: l[1:]})
			next++
		case strings.HasPrefix(l, "-"), strings.HasPrefix(l, `\`):
		default:
			next++
		}
	}
	return out
}

// hunkStart reads "@@ -a,b +c,d @@" and returns c.
func hunkStart(h string) int {
	i := strings.Index(h, "+")
	if i < 0 {
		return 0
	}
	rest := h[i+1:]
	end := strings.IndexAny(rest, ", ")
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

var revertsRe = regexp.MustCompile(`This reverts commit ([0-9a-f]{7,40})`)

// Reverts returns the commit a commit message says it reverts (git
// revert's "This reverts commit <sha>."), if any.
func Reverts(message string) (sha string, ok bool) {
	if m := revertsRe.FindStringSubmatch(message); m != nil {
		return m[1], true
	}
	return "", false
}

// Entropy of the lines changed across files (one count per file),
// normalized to 0…1: Hassan's measure of how scattered a change is.
func Entropy(lines []int) float64 {
	if len(lines) < 2 {
		return 0
	}
	total := 0.0
	for _, n := range lines {
		total += float64(n)
	}
	if total == 0 {
		return 0
	}
	h := 0.0
	for _, n := range lines {
		if p := float64(n) / total; p > 0 {
			h -= p * math.Log2(p)
		}
	}
	return h / math.Log2(float64(len(lines)))
}
