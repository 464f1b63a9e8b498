// Package route turns an assessment into what happens next: how deeply to
// test, how to build, how to deploy, how long to watch, and whether a human
// must approve. Pure; later agents consume the plan as data.
package route

import (
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Plan is the route of a change.
type Plan struct {
	Level    risk.Level      `json:"level"`
	FastPath bool            `json:"fast_path"`
	Tests    string          `json:"tests"`  // targeted, full, full+extra
	Build    string          `json:"build"`  // cached, standard, full
	Deploy   policy.Strategy `json:"deploy"` // rolling, canary
	Watch    time.Duration   `json:"watch"`  // how long to watch metrics after deploying
	// Approval: a human must approve the head commit before it deploys.
	Approval        bool     `json:"approval"`
	ApprovalReasons []string `json:"approval_reasons,omitempty"`
	// CheckConclusion is the ferry/risk check run's conclusion.
	CheckConclusion string `json:"check_conclusion"`
	// Reasons say, in words, what made the build, tests and deploy
	// decisions, so a workflow's log and a reviewer can tell.
	Reasons Reasons `json:"reasons"`
}

// Reasons are a plan's decisions' reasons, one short phrase each.
type Reasons struct {
	Build  []string `json:"build"`
	Tests  []string `json:"tests"`
	Deploy []string `json:"deploy"`
}

// Make routes an assessment of a change under a policy. The change is the
// one assessed: its paths decide the build (the assessment keeps no paths).
func Make(a risk.Assessment, ch change.Change, p policy.Policy) Plan {
	pl := byLevel(a.Level, p)
	for _, g := range a.NeedsHuman {
		pl.Approval = true
		pl.ApprovalReasons = append(pl.ApprovalReasons, fmt.Sprintf("touches %s (policy: require_human)", g))
	}
	if pl.Approval {
		// The policy asked for a human: the check waits for one, whatever
		// the level (an approval of the head turns it green).
		pl.CheckConclusion = "action_required"
	}
	if a.Truncated && pl.Tests == "targeted" {
		// Not every file was seen: no fast path on a partial view.
		pl.FastPath, pl.Tests = false, "full"
		pl.Reasons.Tests = []string{"not every file was seen: the full suite"}
	}
	pl.Build, pl.Reasons.Build = decideBuild(a, ch)
	return pl
}

// byLevel is the route a level takes before the change's own paths and
// the policy's require_human globs are looked at.
func byLevel(l risk.Level, p policy.Policy) Plan {
	pl := Plan{Level: l, CheckConclusion: "success"}
	var tests string
	switch l {
	case risk.Low:
		pl.FastPath, pl.Tests, pl.Deploy, pl.Watch = true, "targeted", policy.Rolling, 5*time.Minute
		tests = "only the tests the change can affect"
	case risk.Medium:
		pl.Tests, pl.Deploy, pl.Watch = "full", policy.Rolling, 15*time.Minute
		tests = "the full suite"
	case risk.High:
		pl.Tests, pl.Deploy, pl.Watch = "full+extra", policy.Canary, 30*time.Minute
		tests = "the full suite and the extra checks"
		pl.CheckConclusion = p.HighRiskConclusion
		pl.Approval = p.HighRiskConclusion == "action_required"
		if pl.Approval {
			pl.ApprovalReasons = append(pl.ApprovalReasons, "high risk")
		}
	}
	pl.Reasons.Tests = []string{fmt.Sprintf("%s risk: %s", l, tests)}
	pl.Reasons.Deploy = []string{fmt.Sprintf("%s risk: %s, metrics watched for %d min", l, pl.Deploy, int(pl.Watch.Minutes()))}
	return pl
}

// CI is the part of a plan a CI workflow acts on, in the one shape ferry
// publishes it: the ferry/risk check run's build block and `ferry plan`.
type CI struct {
	Build           string          `json:"build"`
	Tests           string          `json:"tests"`
	Deploy          policy.Strategy `json:"deploy"`
	Level           risk.Level      `json:"level"`
	FastPath        bool            `json:"fast_path"`
	Approval        bool            `json:"approval"`
	Reasons         Reasons         `json:"reasons"`
	ApprovalReasons []string        `json:"approval_reasons,omitempty"`
}

// CI is the plan as a workflow reads it.
func (p Plan) CI() CI {
	return CI{Build: p.Build, Tests: p.Tests, Deploy: p.Deploy, Level: p.Level, FastPath: p.FastPath,
		Approval: p.Approval, Reasons: p.Reasons, ApprovalReasons: p.ApprovalReasons}
}
