// Package promotion decides an environment's production-deploy pull
// request: which commit is the candidate, what goes out with it, how risky
// it is together, what needs a person's attention, and how its deploy is
// routed. It also names the states the pull request passes through. Pure:
// the promote agent gathers the facts and acts.
package promotion

import (
	"errors"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// State is where a production-deploy pull request is. Each is recorded
// before the action it leads to, so a retry does nothing twice.
type State string

// States, in order.
const (
	Open      State = "open"      // proposed; a person merges it to ship
	Closed    State = "closed"    // closed unmerged: its candidate is not proposed again
	Merged    State = "merged"    // merged: the approval is being recorded and the deploy requested
	Deploying State = "deploying" // the deploy is recorded (DeployID)
	Deployed  State = "deployed"  // it succeeded: the environment runs Candidate
	Restoring State = "restoring" // it failed, or the merge did not count: the deploy branch is being moved back to what runs
	Restored  State = "restored"  // the deploy branch records what runs again
	// Shipped: the environment came to run the candidate another way (a
	// /ferry deploy); the pull request was closed as done.
	Shipped State = "shipped"
)

// Active reports whether the pull request still waits for a person.
func (s State) Active() bool { return s == Open }

// PR is a production-deploy pull request as ferry keeps it.
type PR struct {
	RepositoryID int64
	Environment  string
	Number       int
	Candidate    string // the commit it ships: fixed when merged
	Head         string // the pull request's head: Candidate, or ferry's commit of its content (forge.Promotion.OnTop)
	Base         string // the branch it merges into (deploy/<env>): only that branch is ever moved back
	Running      string // what the environment ran when it was proposed
	State        State
	Plan         Plan // the deploy it promises, fixed when proposed
	MergedBy     string
	DeployID     string
	UpdatedAt    time.Time
}

// ErrNotFound is a production-deploy pull request that is not there.
var ErrNotFound = errors.New("production-deploy pull request not found")

// Plan is how the pull request's deploy is routed: from the combined risk
// of everything in it.
type Plan struct {
	Level     risk.Level      `json:"level"`
	Strategy  policy.Strategy `json:"strategy"`
	Watch     time.Duration   `json:"watch"`
	NeedHuman []string        `json:"need_human,omitempty"`
	// Authors wrote the changes: unless policy allows it, none of them
	// ships it.
	Authors []string `json:"authors,omitempty"`
}

// Ran is a deploy of an environment as these decisions need it.
type Ran struct {
	SHA        string
	Rollback   bool // a rollback (restores what ran before the deploy it rolled back)
	Succeeded  bool
	RolledBack bool // a deploy that ended rolled back
	FinishedAt time.Time
}

// Running is the commit an environment runs by ferry's record ("" when it
// has none), from its deploys newest first: the newest deploy that
// succeeded, unless a rollback that succeeded after it restored an older
// one.
func Running(deploys []Ran) string {
	skip := 0
	for _, d := range deploys {
		switch {
		case d.Rollback && d.Succeeded:
			skip++
		case !d.Rollback && d.Succeeded && skip > 0:
			skip--
		case !d.Rollback && d.Succeeded:
			return d.SHA
		}
	}
	return ""
}

// Sources are the commits an environment promotes from: each commit that
// deployed there successfully, with when it started running there and,
// for the newest, no end; a commit rolled back there is not a source.
func Sources(deploys []Ran) map[string]Source {
	out := map[string]Source{}
	var next time.Time // when the deploy after this one replaced it
	for _, d := range deploys {
		if d.Rollback || !d.Succeeded {
			if !d.FinishedAt.IsZero() && d.Succeeded {
				next = d.FinishedAt
			}
			continue
		}
		if _, seen := out[d.SHA]; !seen {
			out[d.SHA] = Source{Since: d.FinishedAt, Until: next}
		}
		next = d.FinishedAt
	}
	for _, d := range deploys {
		if d.RolledBack {
			delete(out, d.SHA)
		}
	}
	return out
}

// Source is how a commit ran in the environment promoted from.
type Source struct {
	Since time.Time // its deploy there finished
	Until time.Time // a later deploy replaced it (zero: it still runs)
}

// RanFor is how long it ran (until now when it still runs).
func (s Source) RanFor(now time.Time) time.Duration {
	end := s.Until
	if end.IsZero() {
		end = now
	}
	return end.Sub(s.Since)
}

// Commit is a commit of the default branch's first-parent history.
type Commit struct {
	SHA      string
	Subject  string
	Title    string // a merge commit's pull request title
	PR       int    // the pull request it came from, 0 none
	Author   string // the commit's author (an email, lower case)
	IsRevert bool
	Paths    []string
	At       time.Time
}

// Choose picks the candidate among the commits after what runs (oldest
// first): the newest one eligible that was not rolled back in the target
// environment. ok is false when none is.
func Choose(commits []Commit, eligible, rolledBack func(sha string) bool) (index int, ok bool) {
	for i := len(commits) - 1; i >= 0; i-- {
		if sha := commits[i].SHA; eligible(sha) && !rolledBack(sha) {
			return i, true
		}
	}
	return 0, false
}
