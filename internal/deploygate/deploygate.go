// Package deploygate decides whether a commit may deploy: where policy asks
// for a human, a current approval by someone who neither wrote nor pushed
// the change, its pull request open or merged, and its required checks
// green; and, for any deploy ferry starts by itself, whether CI has
// finished green. Pure: the deploy agent gathers the facts.
package deploygate

import (
	"fmt"
	"slices"
	"strings"
)

// Approval is a person's approval of a head commit.
type Approval struct{ By, HeadSHA string }

// PRState is what became of a pull request.
type PRState string

// Pull request states.
const (
	PRNone   PRState = ""       // the commit has no pull request
	PROpen   PRState = "open"   //
	PRMerged PRState = "merged" //
	PRClosed PRState = "closed" // closed without merging
)

// Facts are what the gate decides on.
type Facts struct {
	SHA string
	// NeedHuman are the reasons a person must approve (the risk route's,
	// the environment's needs_human); none: no one needs to.
	NeedHuman []string
	PR        PRState
	Number    int
	Head      string   // the pull request's head now: an approval of an earlier one is void
	Author    string   // the pull request's author
	Pushers   []string // who pushed this head (the events' senders; the commits' authors when unknown)
	Approvals []Approval
	Checks    Checks
}

// Refusal says why a deploy may not go ahead, in plain words for the
// person who asked (plain text: escape it before posting).
type Refusal string

// Authorize returns "" when the deploy may go ahead.
func Authorize(f Facts) Refusal {
	if len(f.NeedHuman) == 0 {
		return ""
	}
	why := strings.Join(f.NeedHuman, "; ")
	switch f.PR {
	case PRNone:
		return Refusal(fmt.Sprintf("a human must approve this deploy (%s), and a commit without a pull request has no one to "+
			"approve it: deploy it from its pull request", why))
	case PRClosed:
		return Refusal(fmt.Sprintf("#%d was closed without merging: ferry does not deploy it where a human must approve", f.Number))
	case PRMerged: // its head is fixed: an approval of it stands
	case PROpen:
		if f.Head != "" && f.Head != f.SHA {
			return Refusal(fmt.Sprintf("%s is no longer the head of #%d (commits were pushed since): its approval is void; "+
				"deploy the new head once it is approved", short(f.SHA), f.Number))
		}
	}
	if len(Approvers(f)) == 0 {
		return noApproval(f, why)
	}
	if !f.Checks.Green() {
		return Refusal("the required checks of " + short(f.SHA) + " are not green: " + f.Checks.Summary())
	}
	return ""
}

// Approvers are the valid approvals of the head: by neither the author nor
// anyone who pushed it.
func Approvers(f Facts) []string {
	var out []string
	for _, a := range f.Approvals {
		if a.HeadSHA == f.SHA && !disqualified(f, a.By) && !slices.Contains(out, a.By) {
			out = append(out, a.By)
		}
	}
	return out
}

func disqualified(f Facts, login string) bool {
	if strings.EqualFold(login, f.Author) {
		return true
	}
	return slices.ContainsFunc(f.Pushers, func(p string) bool { return strings.EqualFold(p, login) })
}

func noApproval(f Facts, why string) Refusal {
	var self []string
	for _, a := range f.Approvals {
		if a.HeadSHA == f.SHA && disqualified(f, a.By) {
			self = append(self, "@"+a.By)
		}
	}
	msg := fmt.Sprintf("a human must approve %s before it deploys (%s): /ferry approve by someone who neither wrote nor pushed it",
		short(f.SHA), why)
	if len(self) > 0 {
		msg += fmt.Sprintf("; the approval of %s does not count (the author or a pusher of this head)", strings.Join(self, ", "))
	}
	return Refusal(msg)
}

func short(sha string) string { return sha[:min(8, len(sha))] }
