package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/route"
)

// TestE2E_PullRequestTestSelection: a pull request to a Go repository
// gets, in its ferry/risk check run, the packages whose tests can observe
// it and the quarantined tests, as a JSON block a workflow reads — read by
// ferry with git from GitHub's test merge, nothing built or run.
func TestE2E_PullRequestTestSelection(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", smallModule(map[string]string{
		".github/ferry-quarantine.yml": "version: 1\ntests:\n  - {test: example.com/m/b.TestSlow, issue: 3}\n",
	}))
	head := r.Commit("b: faster", map[string]string{"b/b.go": "package b\n\n// faster\n"})
	bare := filepath.Join(t.TempDir(), "api.git")
	r.Publish(bare)
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"-C", bare}, args...)...).Output()
		if err != nil {
			t.Fatalf("git %v: %v", args, err)
		}
		return strings.TrimSpace(string(out))
	}
	git("update-ref", "refs/pull/1/head", head)
	git("update-ref", "refs/pull/1/merge", git("commit-tree", head+"^{tree}", "-p", base, "-p", head, "-m", "Merge"))

	sim, _ := newSim(t)
	sim.ServeGit("acme/api", bare)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "b: faster", HeadSHA: head, BaseSHA: base,
		Files: []githubsim.File{{Filename: "b/b.go", Status: "modified", Additions: 2, Patch: "@@ -1 +1,3 @@\n package b\n+\n+// faster"}}})
	startWithSim(t, sim, "--git-cache-dir="+t.TempDir())
	sim.OpenPullRequest("acme/api", n)
	waitFor(t, "the check run", func() bool { return len(checkRunsOn(sim, "acme/api", head)) == 1 })
	text := checkRunsOn(sim, "acme/api", head)[0].Text
	_, block, ok := strings.Cut(text, "```json\n")
	block, _, _ = strings.Cut(block, "```")
	var plan struct {
		Depth   string `json:"depth"`
		All     bool   `json:"all"`
		Targets []struct {
			Name    string   `json:"name"`
			Reasons []string `json:"reasons"`
		} `json:"targets"`
		Total       int              `json:"total"`
		Quarantined []map[string]any `json:"quarantined"`
	}
	if err := json.Unmarshal([]byte(block), &plan); !ok || err != nil {
		t.Fatalf("no JSON block (%v) in the check run's text:\n%s", err, text)
	}
	if plan.Depth != "targeted" || plan.All || plan.Total != 3 || len(plan.Targets) != 2 || plan.Targets[0].Name != "example.com/m/a" ||
		plan.Targets[1].Reasons[0] != "b/b.go" || len(plan.Quarantined) != 1 {
		t.Fatalf("plan %+v\n%s", plan, text)
	}
	if !strings.Contains(text, "Runs the tests of 2 of 3 packages (targeted).") {
		t.Fatalf("text:\n%s", text)
	}
	// After the tests, the build plan: its own heading and JSON block.
	_, build, _ := strings.Cut(text, "### Build\n")
	_, build, _ = strings.Cut(build, "```json\n")
	build, _, _ = strings.Cut(build, "```")
	var ci route.CI
	if err := json.Unmarshal([]byte(build), &ci); err != nil || ci.Build != "cached" || ci.Tests != "targeted" || len(ci.Reasons.Build) == 0 {
		t.Fatalf("build plan %+v (%v) in the check run's text:\n%s", ci, err, text)
	}
}
