// Package route turns an assessment into what happens next: how deeply to
// test, how to build, how to deploy, how long to watch, and whether a human
// must approve. Pure; later agents consume the plan as data.
package route

import (
	"fmt"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Plan is the route of a change.
type Plan struct {
	Level    risk.Level      `json:"level"`
	FastPath bool            `json:"fast_path"`
	Tests    string          `json:"tests"`  // targeted, full, full+extra
	Build    string          `json:"build"`  // cached, standard
	Deploy   policy.Strategy `json:"deploy"` // rolling, canary
	Watch    time.Duration   `json:"watch"`  // how long to watch metrics after deploying
	// Approval: a human must approve the head commit before it deploys.
	Approval        bool     `json:"approval"`
	ApprovalReasons []string `json:"approval_reasons,omitempty"`
	// CheckConclusion is the ferry/risk check run's conclusion.
	CheckConclusion string `json:"check_conclusion"`
}

// Make routes an assessment under a policy.
func Make(a risk.Assessment, p policy.Policy) Plan {
	pl := Plan{Level: a.Level, CheckConclusion: "success"}
	switch a.Level {
	case risk.Low:
		pl.FastPath, pl.Tests, pl.Build, pl.Deploy, pl.Watch = true, "targeted", "cached", policy.Rolling, 5*time.Minute
	case risk.Medium:
		pl.Tests, pl.Build, pl.Deploy, pl.Watch = "full", "standard", policy.Rolling, 15*time.Minute
	case risk.High:
		pl.Tests, pl.Build, pl.Deploy, pl.Watch = "full+extra", "standard", policy.Canary, 30*time.Minute
		pl.CheckConclusion = p.HighRiskConclusion
		pl.Approval = p.HighRiskConclusion == "action_required"
		if pl.Approval {
			pl.ApprovalReasons = append(pl.ApprovalReasons, "high risk")
		}
	}
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
		pl.FastPath, pl.Tests, pl.Build = false, "full", "standard"
	}
	return pl
}
