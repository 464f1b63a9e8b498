// Package policy is .github/ferry.yml: its types, defaults, and a parser that
// validates against the published JSON Schema and reports problems with the
// line they are on. Pure: the caller reads the file (from the base branch).
package policy

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Path is where the policy lives in a repository.
const Path = ".github/ferry.yml"

// Policy is a repository's policy, defaults filled in.
type Policy struct {
	Thresholds Thresholds
	// Learning is the model learned from the repository's history, and
	// the fast-path share its levels aim at.
	Learning           Learning
	Weights            map[string]float64 // rule → points
	Paths              []PathRule
	RequireHuman       []Glob
	HighRiskConclusion string // neutral or action_required
	WorkingHours       WorkingHours
	// Commands overrides who may run a slash command, by verb.
	Commands map[string]CommandRule
	// Environments are where ferry deploys, by name.
	Environments map[string]Environment
	// RequiredChecks must pass on a commit before ferry deploys it by itself
	// or where a human approves, when branch protection's list is not
	// readable (none: every check suite of another app).
	RequiredChecks []string
	// Release is how ferry keeps the release pull request.
	Release Release
	// Limits bound what ferry reads with git of a huge pull request.
	Limits Limits
	// TestMap selects named test targets for changed files matching a
	// glob (files ferry's own selection does not account for).
	TestMap []TestMapping
	// Quarantine is what ferry does about flaky tests.
	Quarantine Quarantine
	// OptimizeDockerfiles: propose proven Dockerfile rewrites after pushes
	// to the default branch that touch a Dockerfile (off by default).
	OptimizeDockerfiles bool
	// GenerateTests is the least risk level ("medium", "high") at which
	// ferry writes tests for a pull request by itself, with a model; ""
	// (off, the default): only /ferry test does.
	GenerateTests string
	// LLM is what the repository lets ferry's model do (when the server
	// has one).
	LLM LLM
}

// LLM is the repository's say over ferry's language model.
type LLM struct {
	// SecondOpinion: a model reviews medium and high risk pull requests
	// (on by default where the server has a model; it can only raise).
	SecondOpinion bool
	// DailyTokens lowers the server's daily token budget for the
	// installation when this repository's work spends it (0: the server's).
	DailyTokens int64
}

// Quarantine is the policy for flaky tests.
type Quarantine struct {
	Auto         bool          // propose quarantines by itself
	MinEvents    int           // commits a test must have flaked on (default 2)
	Window       time.Duration // how far back runs count (default two weeks)
	ReleaseAfter int           // consecutive passes that propose a release (default 20)
}

// TestMapping is one `tests.map` rule.
type TestMapping struct {
	Glob    string
	Targets []string
}

// CommandRule is who may run one command: a least role (read, triage,
// write, maintain, admin; "" keeps ferry's default) and logins allowed
// whatever their role.
type CommandRule struct {
	Permission string
	Users      []string
}

// Thresholds split scores into levels.
type Thresholds struct {
	Medium, High int
	// Explicit: the policy set them, so they decide levels instead of the
	// fast-path share.
	Explicit bool
}

// Learning is how ferry learns risk from a repository's history.
type Learning struct {
	Enabled bool
	// FastPathShare is the share of changes the learned levels put on the
	// fast path (default 0.6).
	FastPathShare float64
	// BackfillCommits and BackfillDays bound what is read on install.
	BackfillCommits, BackfillDays int
}

// PathRule adds points for files matching a glob.
type PathRule struct {
	Glob   Glob
	Rule   string
	Weight float64
}

// Glob is a compiled slash-separated glob: * stays within a directory, **
// crosses directories, ? is one character.
type Glob struct {
	Pattern string
	re      *regexp.Regexp
}

// NewGlob compiles a glob.
func NewGlob(pattern string) Glob { return Glob{Pattern: pattern, re: compileGlob(pattern)} }

// Match reports whether a path matches.
func (g Glob) Match(path string) bool { return g.re != nil && g.re.MatchString(path) }

// WorkingHours are when deploys are ordinary.
type WorkingHours struct {
	Location   *time.Location
	Days       []time.Weekday
	Start, End time.Duration // since midnight
}

// DefaultWeights are the points each rule adds (size, spread and entropy
// scale up to theirs).
func DefaultWeights() map[string]float64 {
	return map[string]float64{
		"migration": 25, "destructive-sql": 30, "auth": 20, "secret": 35, "infra": 15, "dockerfile": 10,
		"ci": 10, "deps": 12, "api-contract": 15, "config": 8, "feature-flag": 5,
		"size": 30, "spread": 15, "entropy": 10, "history": 25, "off-hours": 10,
	}
}

// Default is the policy of a repository without .github/ferry.yml.
func Default() Policy {
	return Policy{
		Thresholds:         Thresholds{Medium: 35, High: 65},
		Learning:           Learning{Enabled: true, FastPathShare: 0.6, BackfillCommits: 2000, BackfillDays: 730},
		Weights:            DefaultWeights(),
		HighRiskConclusion: "neutral",
		WorkingHours: WorkingHours{Location: time.UTC,
			Days:  []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday},
			Start: 9 * time.Hour, End: 18 * time.Hour},
		Limits:     DefaultLimits(),
		Release:    Release{Components: []ReleaseComponent{defaultComponent("", "", nil, "")}},
		Quarantine: Quarantine{MinEvents: 2, Window: 14 * 24 * time.Hour, ReleaseAfter: 20},
		LLM:        LLM{SecondOpinion: true},
	}
}

// Weight is a rule's points (0 if unknown or turned off).
func (p Policy) Weight(rule string) float64 { return p.Weights[rule] }

// NeedsHuman returns the require_human globs a path matches.
func (p Policy) NeedsHuman(path string) []string {
	var out []string
	for _, g := range p.RequireHuman {
		if g.Match(path) {
			out = append(out, g.Pattern)
		}
	}
	return out
}

// Open tells whether t falls within working hours and not before a
// weekend's last afternoon (Friday after 15:00 counts as before a weekend).
func (w WorkingHours) Open(t time.Time) (open bool, why string) {
	t = t.In(w.Location)
	since := time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
	working := false
	for _, d := range w.Days {
		working = working || d == t.Weekday()
	}
	switch {
	case !working:
		return false, fmt.Sprintf("%s is not a working day", t.Weekday())
	case since < w.Start || since >= w.End:
		return false, fmt.Sprintf("%s is outside working hours", t.Format("15:04 MST"))
	case t.Weekday() == time.Friday && since >= 15*time.Hour:
		return false, "Friday afternoon, before a weekend"
	}
	return true, ""
}

func compileGlob(glob string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; {
		case c == '*' && i+1 < len(glob) && glob[i+1] == '*':
			i++
			if i+1 < len(glob) && glob[i+1] == '/' {
				i++
				b.WriteString("(.*/)?")
			} else {
				b.WriteString(".*")
			}
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}
