package gentest

import (
	"fmt"
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
	// Required: branch protection requires a check of this name, and
	// every required check is on the commit.
	Required bool
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
	Wait   StepKind = "wait"    // CI has not finished (or not started, or not shown it ran the tests) on the commit
	Open   StepKind = "open"    // green: open or update the pull request
	Retry  StepKind = "push"    // push again without the failing candidates
	GiveUp StepKind = "give-up" // nothing to propose: Why says why
)

// Step is the decision about one round.
type Step struct {
	Kind    StepKind
	Removed map[string]string // candidate file → why (Retry)
	Why     string            // GiveUp; for Wait, what is missing
}

// NoEvidence is why ferry waits on checks that completed without showing
// that CI ran its tests.
const NoEvidence = "CI completed without showing it ran ferry's tests"

// Decide is what CI's results on a record's commit lead to: the checks
// there (ferry's own left out by the caller) and the test reports CI
// uploaded for it. Green needs evidence, not only the absence of failure:
// see Ran.
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
		if !Ran(r.Kept(), checks, results) {
			return Step{Kind: Wait, Why: NoEvidence}
		}
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

// Without is the record for the next round: the removed candidates marked
// with why, the round advanced, the commit to push pending.
func (r Record) Without(removed map[string]string) Record {
	cs := make([]Candidate, len(r.Candidates))
	copy(cs, r.Candidates)
	for i, c := range cs {
		if why, ok := removed[c.File]; ok && c.Kept {
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
