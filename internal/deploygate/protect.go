package deploygate

import (
	"fmt"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
)

// Answer is ferry's answer to a deployment protection rule request.
type Answer string

// Answers: approve or reject now, or wait and look again.
const (
	Approve Answer = "approved"
	Reject  Answer = "rejected"
	Wait    Answer = "waiting"
)

// Request is what ferry knows when GitHub asks whether a deployment to an
// environment ferry gates (GitHub Actions deploying, say) may go ahead.
type Request struct {
	Environment string
	// Invalid: the default branch's policy does not parse; nothing ferry
	// gates goes ahead until it is fixed.
	Invalid bool
	Paused  string // why ferry is paused ("" not paused)
	Freezes []policy.Freeze
	// RolledBack names where ferry rolled this commit back by itself ("":
	// nowhere): it does not go out elsewhere unchanged.
	RolledBack string
	Gate       Facts // approvals, where a human must approve, and checks
	Now        time.Time
	// Deadline is when GitHub stops waiting for an answer: waiting past it
	// is pointless, so ferry rejects with its reason instead.
	Deadline time.Time
}

// Verdict is the answer, why (one plain line for GitHub's comment) and, to
// wait, when to look again at the latest.
type Verdict struct {
	Answer Answer
	Why    string
	Until  time.Time // Wait: a freeze's end; zero: when anything changes
}

// Protect decides a protection rule request from the same policy and
// state as ferry's own deploys: reject what cannot become right by waiting
// (an invalid policy, a pause, a commit rolled back elsewhere, a closed or
// superseded pull request, failed checks, no one able to approve); wait for
// what can (a freeze ending before GitHub's deadline, an approval, checks
// still running); approve the rest.
func Protect(r Request) Verdict {
	switch {
	case r.Invalid:
		return Verdict{Answer: Reject, Why: policy.Path + " on the default branch is invalid: fix it first"}
	case r.Paused != "":
		return Verdict{Answer: Reject, Why: r.Paused}
	case r.RolledBack != "":
		return Verdict{Answer: Reject, Why: fmt.Sprintf("ferry rolled %s back in %s: a human redeploys it there first, or fixes it",
			short(r.Gate.SHA), r.RolledBack)}
	}
	for _, f := range r.Freezes {
		if r.Now.Before(f.From) || !r.Now.Before(f.To) {
			continue
		}
		why := "frozen until " + f.To.UTC().Format("2006-01-02 15:04 MST")
		if f.Reason != "" {
			why += " (" + f.Reason + ")"
		}
		if !r.Deadline.IsZero() && f.To.After(r.Deadline) {
			return Verdict{Answer: Reject, Why: why + ", past the time GitHub waits for an answer"}
		}
		return Verdict{Answer: Wait, Why: why, Until: f.To}
	}
	if ref := Authorize(r.Gate); ref != "" {
		g := r.Gate
		switch {
		case g.PR == PRClosed || g.PR == PRNone,
			g.PR == PROpen && g.Head != "" && g.Head != g.SHA,
			len(Approvers(g)) > 0 && len(g.Checks.Failed) > 0:
			return Verdict{Answer: Reject, Why: string(ref)}
		}
		return Verdict{Answer: Wait, Why: string(ref)}
	}
	return Verdict{Answer: Approve, Why: approval(r.Gate)}
}

func approval(g Facts) string {
	if len(g.NeedHuman) == 0 {
		return "no human needed here; nothing holds " + short(g.SHA)
	}
	return "approved by " + strings.Join(Approvers(g), ", ") + "; required checks green"
}
