// Package gentest is the vocabulary of ferry's generated-test pull
// requests on GitHub and the decisions about them: which candidate tests
// may be pushed at all, which of them CI's results blame, and what a
// round's results lead to (wait, push again without the failing ones, open
// the pull request, give up). ferry never runs the tests: the repository's
// own CI does, on ferry's branch. Pure: the test agent gathers the facts
// and acts.
package gentest

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Limits on what one run proposes: a model's answers and a repository's
// code are outside ferry's control.
const (
	MaxCandidates  = 10       // candidates pushed in one run
	MaxSourceBytes = 64 << 10 // one candidate's file
	MaxRounds      = 3        // pushes CI judges before ferry gives up
)

// Branch is ferry's branch for the tests of source pull request number.
func Branch(number int) string { return "ferry/tests/" + strconv.Itoa(number) }

// State is where a source pull request's generated tests are. Each is
// recorded before the side effect it leads to, so a retry acts once.
type State string

// States.
const (
	Pushing   State = "pushing"    // a round's commit is being pushed (Round, Candidates say what)
	WaitingCI State = "waiting-ci" // pushed at Tip: CI's results decide
	Green     State = "green"      // CI passed on Tip: the pull request is being opened or updated
	Opened    State = "opened"     // the pull request (PR) proposes the kept tests
	Closing   State = "closing"    // the source pull request closed: ferry's is being closed
	Closed    State = "closed"     // closed with the source pull request
	GivingUp  State = "giving-up"  // ferry gives up (Note says why): the comment saying so is being posted
	GaveUp    State = "gave-up"    // nothing left to propose, or failures ferry cannot blame on a candidate
	Stale     State = "stale"      // the source pull request moved on from HeadSHA: nothing is proposed for it
)

// Bounds on how long a run waits for CI.
const (
	// WaitCI is how long ferry waits for CI's verdict on a round's commit
	// before it gives up.
	WaitCI = 24 * time.Hour
	// Restartable is how old a run waiting for CI (or pushing) may be
	// before /ferry test starts it again on the same head.
	Restartable = time.Hour
)

// MovedOn is the note of a run whose source pull request moved on.
const MovedOn = "the pull request moved on: /ferry test again"

// Active reports whether CI's results on Tip still matter.
func (s State) Active() bool { return s == Pushing || s == WaitingCI || s == Green }

// Candidate is one proposed test as ferry keeps it.
type Candidate struct {
	Name   string `json:"name"`   // the test function
	File   string `json:"file"`   // its file, relative to the repository root
	Source string `json:"source"` // the whole file
	Origin string `json:"origin"` // "llm <model>", "fuzz", …
	Target string `json:"target"` // the function it tests
	// Package is the import path of the test's package ("" in records
	// written before it was kept: its directory stands in).
	Package string `json:"package,omitempty"`
	Kept    bool   `json:"kept"`
	Reason  string `json:"reason,omitempty"` // why it was removed
	Round   int    `json:"round,omitempty"`  // the round that removed it
}

// Usage is what generating the candidates cost.
type Usage struct {
	Model            string `json:"model,omitempty"` // "" without a model
	PromptTokens     int    `json:"prompt_tokens,omitempty"`
	CompletionTokens int    `json:"completion_tokens,omitempty"`
}

// Record is one source pull request's generated tests: one per
// (repository, source pull request), updated in place.
type Record struct {
	RepositoryID int64
	Number       int    // the source pull request
	Branch       string // ferry/tests/<Number>
	HeadRef      string // the source pull request's branch: where ferry's pull request merges into
	HeadSHA      string // the source head the candidates were written for (each round's commit has its tree as base)
	Round        int
	Candidates   []Candidate
	Tip          string // ferry's branch's commit CI judges ("" until pushed)
	State        State
	PR           int // ferry's pull request, 0 until opened
	Usage        Usage
	Note         string // why ferry gave up, for people
	UpdatedAt    time.Time
}

// ErrNotFound is a source pull request without generated tests.
var ErrNotFound = errors.New("no generated tests for this pull request")

// Kept are the candidates still proposed.
func (r Record) Kept() []Candidate {
	var out []Candidate
	for _, c := range r.Candidates {
		if c.Kept {
			out = append(out, c)
		}
	}
	return out
}

// Files are the kept candidates' files, path → content.
func (r Record) Files() map[string]string {
	out := map[string]string{}
	for _, c := range r.Kept() {
		out[c.File] = c.Source
	}
	return out
}

var testName = regexp.MustCompile(`^(Test|Fuzz)[A-Za-z0-9_]{0,100}$`)

// Vet checks a candidate before anything is pushed: a test function's
// name, a _test.go file inside dir (the target's package directory, not
// below it), a file that is not there already (ferry adds tests, never
// rewrites the repository's), within the size limit.
func Vet(c Candidate, dir string, exists func(path string) bool) error {
	switch clean := path.Clean(c.File); {
	case !testName.MatchString(c.Name):
		return fmt.Errorf("%q is not a Go test or fuzz function name", c.Name)
	case c.File == "" || clean != c.File || strings.HasPrefix(c.File, "/") || strings.Contains(c.File, "\\"):
		return fmt.Errorf("file %q is not a clean relative path", c.File)
	case path.Dir(c.File) != path.Clean(dir):
		return fmt.Errorf("file %q is outside the package directory %q", c.File, dir)
	case !strings.HasSuffix(c.File, "_test.go") || strings.HasPrefix(path.Base(c.File), "."):
		return fmt.Errorf("file %q is not a _test.go file", c.File)
	case len(c.Source) == 0 || len(c.Source) > MaxSourceBytes:
		return fmt.Errorf("file %q has %d bytes (at most %d)", c.File, len(c.Source), MaxSourceBytes)
	case !strings.Contains(c.Source, "func "+c.Name+"("):
		return fmt.Errorf("file %q does not define %s", c.File, c.Name)
	case exists(c.File):
		return fmt.Errorf("file %q exists already", c.File)
	}
	return nil
}
