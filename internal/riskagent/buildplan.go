package riskagent

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/route"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// maxCheckText is GitHub's limit on a check run's text, in characters.
const maxCheckText = 65535

// checkText is the ferry/risk check run's text: the test plan, then the
// build plan, each a fenced JSON block under its heading for workflows. The
// tests block comes first, as before the build block existed. A text over
// GitHub's limit would be cut, leaving a block no workflow can parse: a
// selection too long to fit is published as "run everything" instead.
func checkText(plan route.Plan, tests *TestPlan) string {
	build := buildText(plan)
	text := testsText(tests)
	if tests != nil && utf8.RuneCountInString(text)+utf8.RuneCountInString(build) > maxCheckText {
		all := *tests
		all.Selection = testsel.Selection{All: true, Why: []string{"the selection is longer than a check run holds"},
			Targets: []testsel.Target{}, Total: tests.Total, Quarantined: tests.Quarantined}
		text = testsText(&all)
	}
	if text == "" {
		return build
	}
	return text + "\n" + build
}

// buildText is the route as a workflow acts on it — build mode, test
// depth, deploy strategy, each with its reasons — as a line for people and
// a fenced JSON block (route.CI) for workflows.
func buildText(plan route.Plan) string {
	data, err := json.MarshalIndent(plan.CI(), "", "  ")
	if err != nil {
		return ""
	}
	// The reasons name paths, which the repository chose: escaped, as in
	// the comment.
	line := fmt.Sprintf("Build: %s. Tests: %s. Deploy: %s.", plan.Build, plan.Tests, plan.Deploy)
	if why := plan.Reasons.Build; len(why) > 0 { // a route stored before reasons has none
		line = fmt.Sprintf("Build: %s — %s. Tests: %s. Deploy: %s.", plan.Build, md.Text(strings.Join(why, "; ")), plan.Tests, plan.Deploy)
	}
	// The fence outgrows any run of backticks in a path, so a path cannot
	// close the block early.
	return "### Build\n\n" + line + "\n\n" + md.Fence(string(data), "json") + "\n"
}
