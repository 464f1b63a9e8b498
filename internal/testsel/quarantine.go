package testsel

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// QuarantinePath is where a repository lists its quarantined tests.
const QuarantinePath = ".github/ferry-quarantine.yml"

// Quarantined is a test that keeps running, outside the blocking job.
type Quarantined struct {
	Test   string `json:"test"`             // suite.name, e.g. example.com/m/calc.TestFlaky
	Reason string `json:"reason,omitempty"` // why (ferry writes the flake evidence)
	Issue  int    `json:"issue,omitempty"`  // the tracking issue
	Since  string `json:"since,omitempty"`  // date
}

type quarantineFile struct {
	Version int           `json:"version"`
	Tests   []Quarantined `json:"tests"`
}

// maxQuarantined bounds the list: a file anyone can edit in a pull request.
const maxQuarantined = 1000

// testName is what a quarantined test may be called: a Go import path (or
// a JUnit class) and a test name, no regexp or shell syntax.
var testName = regexp.MustCompile(`^[A-Za-z0-9_./~-]+\.[A-Za-z0-9_]+(/[A-Za-z0-9_+=.,:-]+)*$`)

// ValidName reports whether a test may be written into the quarantine
// file: PACKAGE.TestName, nothing a pattern or YAML could read otherwise.
func ValidName(test string) bool { return testName.MatchString(test) }

// ParseQuarantine reads the quarantine file: its tests, or the problems
// that make it unusable (then nothing is quarantined: a broken file must
// not hide a test).
func ParseQuarantine(data []byte) ([]Quarantined, error) {
	var f quarantineFile
	if err := yaml.UnmarshalStrict(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", QuarantinePath, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("%s: version must be 1", QuarantinePath)
	}
	if len(f.Tests) > maxQuarantined {
		return nil, fmt.Errorf("%s: %d tests, at most %d", QuarantinePath, len(f.Tests), maxQuarantined)
	}
	for i, q := range f.Tests {
		if !testName.MatchString(q.Test) {
			return nil, fmt.Errorf("%s: tests[%d]: %q is not PACKAGE.TestName", QuarantinePath, i, q.Test)
		}
	}
	sort.Slice(f.Tests, func(i, j int) bool { return f.Tests[i].Test < f.Tests[j].Test })
	return f.Tests, nil
}

// SkipPattern is the go test -run/-skip pattern naming the quarantined
// tests' top-level names, for the packages selected ("" when none is in
// them): the blocking job skips them, a non-blocking job runs only them.
func SkipPattern(q []Quarantined, packages []string) string {
	in := map[string]bool{}
	for _, p := range packages {
		in[p] = true
	}
	seen := map[string]bool{}
	var names []string
	for _, t := range q {
		pkg, name := splitTest(t.Test)
		if in[pkg] && !seen[name] {
			seen[name] = true
			names = append(names, regexp.QuoteMeta(name))
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return "^(" + strings.Join(names, "|") + ")$"
}

// goTest finds a Go test's package and top-level name in PACKAGE.Name[/sub]:
// package paths hold slashes and dots, subtest names dots.
var goTest = regexp.MustCompile(`^(.*?)\.((?:Test|Benchmark|Example|Fuzz)[A-Za-z0-9_]*)(?:/.*)?$`)

// splitTest is a quarantined test's suite and top-level name: a Go test's,
// else (a JUnit class) what follows the last dot.
func splitTest(id string) (suite, name string) {
	if m := goTest.FindStringSubmatch(id); m != nil {
		return m[1], m[2]
	}
	i := strings.LastIndex(id, ".")
	return id[:i], id[i+1:]
}

// RecordState is how far ferry has come with a quarantine.
type RecordState string

// Record states, each recorded before the side effect it leads to.
const (
	Proposing        RecordState = "proposing"         // its tracking issue and pull request are being made
	Proposed         RecordState = "proposed"          // both exist
	ReleaseProposing RecordState = "release-proposing" // passing again: its release is being proposed
	ReleaseProposed  RecordState = "release-proposed"
)

// Record is ferry's record of a test it proposed to quarantine.
type Record struct {
	Test   string
	State  RecordState
	Issue  int    // the tracking issue, once made
	Reason string // the evidence, plain text
	Events int    // the flake events it was proposed on: more later is flaky again
}
