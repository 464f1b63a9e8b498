package testgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// Coverage is which statement lines of which files ran: profile file name
// ("example.com/m/pkg/file.go") → line → ran. A line absent from a file's
// map holds no statement.
type Coverage map[string]map[int]bool

// ParseCoverage reads a profile written by go test -coverprofile (any
// mode). A line ran if any block overlapping it ran: a line is covered when
// it executed at least in part.
func ParseCoverage(r io.Reader) (Coverage, error) {
	c := Coverage{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "mode:") {
			continue
		}
		file, from, to, count, err := parseBlock(l)
		if err != nil {
			return nil, fmt.Errorf("coverage profile line %d: %w", n, err)
		}
		lines := c[file]
		if lines == nil {
			lines = map[int]bool{}
			c[file] = lines
		}
		for i := from; i <= to; i++ {
			lines[i] = lines[i] || count > 0
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read coverage profile: %w", err)
	}
	return c, nil
}

// parseBlock reads "file.go:12.3,14.5 2 1": the block's lines and count.
func parseBlock(l string) (file string, from, to int, count int64, err error) {
	colon := strings.LastIndex(l, ":")
	if colon < 0 {
		return "", 0, 0, 0, fmt.Errorf("no file in %q", l)
	}
	fields := strings.Fields(l[colon+1:])
	if len(fields) != 3 {
		return "", 0, 0, 0, fmt.Errorf("want range, statements and count in %q", l)
	}
	start, end, ok := strings.Cut(fields[0], ",")
	if !ok {
		return "", 0, 0, 0, fmt.Errorf("no range in %q", l)
	}
	if from, err = lineOf(start); err == nil {
		to, err = lineOf(end)
	}
	if err == nil {
		count, err = strconv.ParseInt(fields[2], 10, 64)
	}
	if err != nil {
		return "", 0, 0, 0, fmt.Errorf("%q: %w", l, err)
	}
	return l[:colon], from, to, count, nil
}

func lineOf(pos string) (int, error) {
	line, _, _ := strings.Cut(pos, ".")
	return strconv.Atoi(line)
}

// Merge adds o's lines to c: a line ran if it ran in either.
func (c Coverage) Merge(o Coverage) {
	for file, lines := range o {
		mine := c[file]
		if mine == nil {
			mine = map[int]bool{}
			c[file] = mine
		}
		for l, ran := range lines {
			mine[l] = mine[l] || ran
		}
	}
}

// profileName is how a profile names a target's file.
func profileName(t Target) string {
	return t.ImportPath + "/" + path.Base(t.File)
}

// ChangedLinesCoverage is the share of the targets' changed statement lines
// that ran: a changed line without a statement (a comment, a closing
// brace outside any block) counts neither way. With no changed statement
// line it is 1: nothing is left to cover.
func ChangedLinesCoverage(c Coverage, targets []Target) float64 {
	covered, total := changedCounts(c, targets)
	if total == 0 {
		return 1
	}
	return float64(covered) / float64(total)
}

// changedCounts is how many changed statement lines ran, of how many.
func changedCounts(c Coverage, targets []Target) (covered, total int) {
	for _, t := range targets {
		lines := c[profileName(t)]
		for _, l := range t.Changed {
			ran, stmt := lines[l]
			if stmt {
				total++
			}
			if ran {
				covered++
			}
		}
	}
	return covered, total
}

// withUncovered sets each target's uncovered changed lines and keeps the
// targets that have any.
func withUncovered(changed []Target, c Coverage) []Target {
	var out []Target
	for _, t := range changed {
		lines := c[profileName(t)]
		t.Uncovered = nil
		for _, l := range t.Changed {
			if ran, stmt := lines[l]; stmt && !ran {
				t.Uncovered = append(t.Uncovered, l)
			}
		}
		if len(t.Uncovered) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// baselineCoverage runs the existing tests of each package holding a
// changed function with a coverage profile. Failing tests still leave a
// profile of what ran; a package that does not build leaves none, which is
// an error: nothing about it can be measured.
func baselineCoverage(ctx context.Context, tc toolchain, tree string, changed []Target) (Coverage, error) {
	work, err := os.MkdirTemp("", "ferry-testgen-cover-")
	if err != nil {
		return nil, fmt.Errorf("coverage scratch: %w", err)
	}
	defer os.RemoveAll(work)
	all := Coverage{}
	seen := map[string]bool{}
	for _, t := range changed {
		if seen[t.Dir] {
			continue
		}
		seen[t.Dir] = true
		prof := filepath.Join(work, fmt.Sprintf("base%d.cov", len(seen)))
		dir := filepath.Join(tree, filepath.FromSlash(t.Dir))
		out, runErr := tc.run(ctx, dir, stepTimeout, "go", "test", "-count=1", "-covermode=set", "-coverprofile="+prof, ".")
		data, err := os.ReadFile(prof)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			return nil, fmt.Errorf("coverage of %s: %v: %s", t.Dir, runErr, excerpt(out, tree))
		}
		c, err := ParseCoverage(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("coverage of %s: %w", t.Dir, err)
		}
		all.Merge(c)
	}
	return all, nil
}
