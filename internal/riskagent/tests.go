package riskagent

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// TestPlan is what a pull request's CI should run: the packages whose
// tests can observe the change when the route's depth is targeted,
// everything when it asks for the full suite.
type TestPlan struct {
	Depth string `json:"depth"` // the route's: targeted, full, full+extra
	testsel.Selection
}

// maxPlanTargets bounds the targets a check run lists with their reasons.
const maxPlanTargets = 500

// readPullRequest reads the pull request's test merge with git once, for
// two things: its tests (nil when the repository has none ferry can name)
// and the findings on the Dockerfile lines it touched. Best effort: a
// repository git cannot read gets neither, never a failed assessment.
func (o *Agent) readPullRequest(ctx context.Context, s Subject, depth string, maps []testsel.Mapping, ch change.Change) (*TestPlan, []render.DockerfileNote) {
	if o.deps.Git == nil || s.CloneURL == "" || s.Number == 0 {
		return nil, nil
	}
	user, pass, err := o.deps.Changes(s.InstallationID).GitCredentials(ctx)
	var plan *TestPlan
	var notes []render.DockerfileNote
	if err == nil {
		pr := git.PullRequest{URL: s.CloneURL, Username: user, Password: pass, Number: s.Number, BaseRef: s.BaseRef, HeadSHA: s.HeadSHA}
		err = o.deps.Git.PullRequestTree(ctx, strconv.FormatInt(s.RepositoryID, 10), pr, func(t, base *git.Tree, changed []string) error {
			sel, _ := testsel.Plan(t, base, changed, maps) // a broken list quarantines nothing
			if sel.Total > 0 {
				plan = planOf(depth, sel)
			}
			notes = dockerfileNotes(ctx, t, ch)
			return nil
		})
	}
	if err != nil {
		o.cfg.Logger.WarnContext(ctx, "no test selection: could not read the pull request with git", "err", err)
		return nil, nil
	}
	return plan, notes
}

// planOf applies the route's depth: only targeted runs the selection.
func planOf(depth string, sel testsel.Selection) *TestPlan {
	if depth != "targeted" && !sel.All {
		sel.All, sel.Why = true, []string{"the risk route runs the " + depth + " suite for this change"}
		sel.Targets = nil // everything: the workflow runs ./...
	}
	if sel.All {
		sel.Targets = nil
	}
	if len(sel.Targets) > maxPlanTargets {
		sel.All, sel.Why, sel.Targets = true, []string{fmt.Sprintf("%d packages selected: more than a check run lists", len(sel.Targets))}, nil
	}
	if sel.Targets == nil {
		sel.Targets = []testsel.Target{}
	}
	return &TestPlan{Depth: depth, Selection: sel}
}

// testsText is the check run's text for a plan: a line for people, and
// the plan as a fenced JSON block for workflows.
func testsText(p *TestPlan) string {
	if p == nil {
		return ""
	}
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return ""
	}
	line := fmt.Sprintf("Runs the tests of %d of %d packages (%s).", len(p.Targets), p.Total, p.Depth)
	if p.All {
		line = fmt.Sprintf("Runs every test (%s): %s.", p.Depth, strings.Join(p.Why, "; "))
	}
	return "### Tests\n\n" + line + "\n\n" + md.Fence(string(data), "json") + "\n"
}
