// Package risk scores a change: every rule that fires is a reason with the
// points it adds and the evidence (paths, line numbers) behind it. Pure: the
// change, its history, the policy and the time are all parameters.
package risk

import (
	"fmt"
	"math"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
)

// Level is a risk level.
type Level string

// Levels.
const (
	Low    Level = "low"
	Medium Level = "medium"
	High   Level = "high"
)

// Evidence is what made a rule fire.
type Evidence struct {
	Path string `json:"path,omitempty"`
	Line int    `json:"line,omitempty"` // in the new file; 0 for the whole file
	Note string `json:"note,omitempty"`
}

// Reason is one rule's contribution.
type Reason struct {
	Rule     string     `json:"rule"`
	Weight   float64    `json:"weight"` // points added to the score
	Summary  string     `json:"summary"`
	Evidence []Evidence `json:"evidence,omitempty"`
}

// Stats describe the change's size and spread.
type Stats struct {
	Files       int     `json:"files"`
	Additions   int     `json:"additions"`
	Deletions   int     `json:"deletions"`
	Directories int     `json:"directories"`
	Entropy     float64 `json:"entropy"` // 0 (one file) … 1 (changes spread evenly)
}

// Assessment is the scored, explained risk of a change.
type Assessment struct {
	Score      int      `json:"score"`  // 0–100
	Points     float64  `json:"points"` // the sum before rounding and capping, for ranking
	Level      Level    `json:"level"`
	Reasons    []Reason `json:"reasons"` // largest contribution first
	Stats      Stats    `json:"stats"`
	FastPath   string   `json:"fast_path,omitempty"`   // "docs-only" or "tests-only" when it applies
	NeedsHuman []string `json:"needs_human,omitempty"` // require_human globs that matched
	Truncated  bool     `json:"truncated,omitempty"`   // not every file was seen
	// Floor is the least level the change has whatever its score: a
	// destructive schema change is high, any migration at least medium.
	Floor Level `json:"floor,omitempty"`
	// Learned is what the repository's own history taught (nil until
	// it has enough).
	Learned *Learned `json:"learned,omitempty"`
	// Opinion is a language model's second look (medium and high risk,
	// where one is configured); it may have raised Level, never lowered it.
	Opinion *Opinion `json:"opinion,omitempty"`
}

// History is what went wrong before, keyed by path.
type History struct {
	// Incidents are times a change touching the path was reverted, rolled
	// back or hot-fixed.
	Incidents map[string][]time.Time
	// Changes counts earlier changes to the path (its churn).
	Changes map[string]int
}

// Kind of change assessed: a push to the default branch is deployed, so the
// time it lands matters; a pull request's does not.
type Kind int

// Kinds.
const (
	PullRequest Kind = iota
	Push
)

// Input is everything an assessment depends on.
type Input struct {
	Change  change.Change
	History History
	Policy  policy.Policy
	Now     time.Time
	Kind    Kind
}

// fileInfo is a file with its classes and added lines, worked out once
// per assessment (every rule reads them).
type fileInfo struct {
	change.File
	classes []change.Class
	added   []change.Line
	lower   []string // added lines, lower-cased: cheap prefilters before regexes
}

func (f fileInfo) is(c change.Class) bool { return slices.Contains(f.classes, c) }

// prepared is the input with each file worked out.
type prepared struct {
	Input
	all      []fileInfo
	relevant []change.File // not generated or vendored: what size and spread count
	stats    Stats
}

func prepare(in Input) *prepared {
	p := &prepared{Input: in}
	for _, f := range in.Change.Files {
		fi := fileInfo{File: f, classes: change.Classes(f.Path), added: change.AddedLines(f.Patch)}
		for _, l := range fi.added {
			fi.lower = append(fi.lower, strings.ToLower(l.Text))
		}
		p.all = append(p.all, fi)
		if !fi.is(change.Generated) {
			p.relevant = append(p.relevant, f)
		}
	}
	p.stats = stats(p.relevant)
	return p
}

// Assess scores a change.
func Assess(in Input) Assessment {
	p := prepare(in)
	a := Assessment{Stats: p.stats, Truncated: in.Change.Truncated}
	var reasons []Reason
	for _, rule := range rules {
		for _, r := range rule(p) {
			if r.Weight > 0 {
				reasons = append(reasons, r)
			}
		}
	}
	sort.SliceStable(reasons, func(i, j int) bool { return reasons[i].Weight > reasons[j].Weight })
	total := 0.0
	for _, r := range reasons {
		total += r.Weight
	}
	if !in.Change.Truncated { // a partial view is never the fast path: what was not seen may be code
		a.FastPath = fastPath(p.all)
	}
	if a.FastPath != "" {
		total = math.Min(total, float64(in.Policy.Thresholds.Medium)/3) // tests or docs only: the fast path
	}
	a.Points = total
	a.Score = int(math.Round(math.Min(100, total)))
	a.Reasons = reasons
	a.Level = level(a.Score, in.Policy.Thresholds)
	a.Floor = floor(p, reasons)
	a.Level = Max(a.Level, a.Floor)
	for _, f := range in.Change.Files {
		a.NeedsHuman = append(a.NeedsHuman, in.Policy.NeedsHuman(f.Path)...)
	}
	a.NeedsHuman = unique(a.NeedsHuman)
	return a
}

// floor is the least level the rules that fired demand: a destructive
// schema change (dropping or renaming a column or table, narrowing a type,
// NOT NULL without a default) is the costliest mistake a deploy can make.
// The floors hold whatever weights the policy gives the rules.
func floor(p *prepared, reasons []Reason) Level {
	destructive := slices.ContainsFunc(reasons, func(r Reason) bool { return r.Rule == "destructive-sql" })
	if !destructive && p.Policy.Weight("destructive-sql") == 0 {
		_, destructive = destructiveSQLRule(p)
	}
	if destructive {
		return High
	}
	if slices.ContainsFunc(p.all, func(f fileInfo) bool { return f.is(change.Migration) }) {
		return Medium
	}
	return Low
}

// Rank orders levels: low 0, medium 1, high 2.
func (l Level) Rank() int {
	switch l {
	case High:
		return 2
	case Medium:
		return 1
	case Low:
	}
	return 0
}

// Max is the higher of two levels.
func Max(a, b Level) Level {
	if b.Rank() > a.Rank() {
		return b
	}
	return a
}

func level(score int, t policy.Thresholds) Level {
	switch {
	case score >= t.High:
		return High
	case score >= t.Medium:
		return Medium
	}
	return Low
}

func stats(files []change.File) Stats {
	s := Stats{Files: len(files)}
	dirs := map[string]bool{}
	for _, f := range files {
		s.Additions += f.Additions
		s.Deletions += f.Deletions
		dirs[path.Dir(f.Path)] = true
	}
	s.Directories = len(dirs)
	s.Entropy = entropy(files)
	return s
}

// entropy of the lines changed across files, normalized to 0…1.
func entropy(files []change.File) float64 {
	lines := make([]int, len(files))
	for i, f := range files {
		lines[i] = f.Additions + f.Deletions
	}
	return change.Entropy(lines)
}

// fastPath: a change of only tests, or only docs, takes the fast path.
func fastPath(files []fileInfo) string {
	if len(files) == 0 {
		return ""
	}
	docs, tests := true, true
	for _, f := range files {
		cs := f.classes
		docs = docs && onlyOf(cs, change.Docs)
		tests = tests && (onlyOf(cs, change.Tests) || onlyOf(cs, change.Docs))
	}
	switch {
	case docs:
		return "docs-only"
	case tests:
		return "tests-only"
	}
	return ""
}

func onlyOf(cs []change.Class, c change.Class) bool { return len(cs) == 1 && cs[0] == c }

func unique(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

// scale maps x on a log scale to 0…1, reaching 1 at full.
func scale(x, full float64) float64 {
	if x <= 0 {
		return 0
	}
	return math.Min(1, math.Log1p(x)/math.Log1p(full))
}

// mentions tells whether s contains any of words (already lower-case).
func mentions(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
