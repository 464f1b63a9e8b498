package gentest

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/ferry-ci/ferry/internal/testsel"
)

// Check is a CI check run on ferry's commit as GitHub reports it.
type Check struct {
	Name       string
	Status     string // queued, in_progress, completed
	Conclusion string
	URL        string // GitHub's page of the run
	// Output is what a failed run says (title, summary, text, annotation
	// messages): where `--- FAIL: TestName` names a test.
	Output string
}

// Failed reports whether the run failed.
func (c Check) Failed() bool {
	switch c.Conclusion {
	case "failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale":
		return true
	}
	return false
}

// StepKind is what a round's results lead to.
type StepKind string

// Steps.
const (
	Wait   StepKind = "wait"    // CI has not finished (or not started) on the commit
	Open   StepKind = "open"    // green: open or update the pull request
	Retry  StepKind = "push"    // push again without the failing candidates
	GiveUp StepKind = "give-up" // nothing to propose: Why says why
)

// Step is the decision about one round.
type Step struct {
	Kind    StepKind
	Removed map[string]string // candidate name → why (Retry)
	Why     string            // GiveUp
}

// Decide is what CI's results on a record's commit lead to: the checks
// there (ferry's own left out by the caller) and the test reports CI
// uploaded for it.
func Decide(r Record, checks []Check, results []testsel.Result) Step {
	if len(checks) == 0 {
		return Step{Kind: Wait}
	}
	for _, c := range checks {
		if c.Status != "completed" {
			return Step{Kind: Wait}
		}
	}
	failed, unexplained := Blame(r.Kept(), checks, results)
	switch {
	case len(failed) == 0 && len(unexplained) == 0:
		return Step{Kind: Open}
	case len(unexplained) > 0:
		return Step{Kind: GiveUp, Why: "CI failed in a way ferry cannot blame on one of its tests: " + strings.Join(unexplained, "; ")}
	case len(failed) == len(r.Kept()):
		return Step{Kind: GiveUp, Why: "every proposed test failed in CI"}
	case r.Round >= MaxRounds:
		return Step{Kind: GiveUp, Why: fmt.Sprintf("tests still failed after %d rounds", MaxRounds)}
	}
	return Step{Kind: Retry, Removed: failed}
}

// failLine is how go test names a failed test (a subtest's parent fails
// with it).
var failLine = regexp.MustCompile(`--- FAIL: ([A-Za-z0-9_]+)`)

// maxUnexplained bounds the failures a give-up lists.
const maxUnexplained = 5

// Blame attributes CI's failures to candidates: a candidate failed when a
// report says its test failed, when a failed check run's output has
// `--- FAIL: <Name>`, or names its file (a build error in it). A failed
// test that is not a candidate, or a failed check run that names none, is
// unexplained: the change itself, or CI, failed.
func Blame(kept []Candidate, checks []Check, results []testsel.Result) (failed map[string]string, unexplained []string) {
	failed = map[string]string{}
	byName := map[string]Candidate{}
	for _, c := range kept {
		byName[c.Name] = c
	}
	for _, res := range results {
		top, _, _ := strings.Cut(res.Test, "/")
		if res.Outcome != testsel.Failed {
			continue
		}
		if _, ours := byName[top]; ours {
			failed[top] = "failed in CI's test report"
		} else {
			unexplained = append(unexplained, "test "+res.Test+" failed")
		}
	}
	for _, ch := range checks {
		if !ch.Failed() {
			continue
		}
		named := false
		for _, m := range failLine.FindAllStringSubmatch(ch.Output, -1) {
			if _, ours := byName[m[1]]; ours {
				named = true
				if _, ok := failed[m[1]]; !ok {
					failed[m[1]] = "failed in check run " + ch.Name
				}
			}
		}
		for _, c := range kept {
			if strings.Contains(ch.Output, path.Base(c.File)+":") {
				named = true
				if _, ok := failed[c.Name]; !ok {
					failed[c.Name] = "its file is named in the output of check run " + ch.Name + " (a build error?)"
				}
			}
		}
		if !named && len(failed) == 0 {
			unexplained = append(unexplained, "check run "+ch.Name+" failed without naming a proposed test")
		}
	}
	sort.Strings(unexplained)
	return failed, unexplained[:min(len(unexplained), maxUnexplained)]
}

// Without is the record for the next round: the removed candidates marked
// with why, the round advanced, the commit to push pending.
func (r Record) Without(removed map[string]string) Record {
	cs := make([]Candidate, len(r.Candidates))
	copy(cs, r.Candidates)
	for i, c := range cs {
		if why, ok := removed[c.Name]; ok && c.Kept {
			cs[i].Kept, cs[i].Reason, cs[i].Round = false, why, r.Round
		}
	}
	r.Candidates, r.Round, r.State = cs, r.Round+1, Pushing
	return r
}

// coverageLine is go test's summary of a package with -cover.
var coverageLine = regexp.MustCompile(`(?m)^ok\s+(\S+)\s+\S+\s+coverage: ([0-9.]+)% of statements`)

// Coverage lists the statement coverage go test reported per package in
// the checks' output, "package: 81.2%", sorted; none when not reported.
func Coverage(checks []Check) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range checks {
		for _, m := range coverageLine.FindAllStringSubmatch(c.Output, -1) {
			if s := m[1] + ": " + m[2] + "%"; !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	sort.Strings(out)
	return out
}
