package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/route"
)

// PlanCmd prints what CI should do with a local change — build mode, test
// depth, deploy strategy, each with its reasons — as the ferry/risk check
// run publishes it on the change's pull request.
type PlanCmd struct {
	LocalChange `embed:""`
	Format      string `name:"format" default:"json" enum:"json,github-output" help:"json, or github-output (name=value lines for $GITHUB_OUTPUT)."`
}

// planOutput is the JSON output: the check run's build block, and which
// change it is for.
type planOutput struct {
	Base  string `json:"base"`
	Head  string `json:"head"`
	Score int    `json:"score"`
	route.CI
}

// Run implements the command.
func (c *PlanCmd) Run(e *env) error {
	as, err := c.assess(e)
	if err != nil {
		return err
	}
	ci := as.plan.CI()
	if c.Format == "github-output" {
		_, err := fmt.Fprint(e.stdout, githubOutput(ci))
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(planOutput{Base: as.base.Hash.String(), Head: as.head.Hash.String(), Score: as.assessment.Score, CI: ci})
}

// githubOutput is the plan as name=value lines for $GITHUB_OUTPUT. Reasons
// are joined with "; " on one line each: a line break in a value (a path
// may hold one) would start a line GitHub reads as another output.
func githubOutput(ci route.CI) string {
	var b strings.Builder
	for _, kv := range [][2]string{
		{"build", ci.Build},
		{"tests", ci.Tests},
		{"deploy", string(ci.Deploy)},
		{"level", string(ci.Level)},
		{"fast_path", fmt.Sprint(ci.FastPath)},
		{"approval", fmt.Sprint(ci.Approval)},
		{"build_reasons", strings.Join(ci.Reasons.Build, "; ")},
		{"tests_reasons", strings.Join(ci.Reasons.Tests, "; ")},
		{"deploy_reasons", strings.Join(ci.Reasons.Deploy, "; ")},
		{"approval_reasons", strings.Join(ci.ApprovalReasons, "; ")},
	} {
		fmt.Fprintf(&b, "%s=%s\n", kv[0], oneLine(kv[1]))
	}
	return b.String()
}

// oneLine replaces control characters — line breaks above all — with
// spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u0085' || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}
