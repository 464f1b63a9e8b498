package render

import (
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/dockerfile"
	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/policy"
	riskpkg "github.com/ferry-ci/ferry/internal/risk"
)

// TestAttack_MarkdownInjection: paths, matched lines, branch names, pause
// reasons, policy globs and deploy messages chosen to break out of ferry's
// Markdown render as inert text: no link, image or HTML, no mention, every
// hostile name still visible.
func TestAttack_MarkdownInjection(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p := policy.Default()
	p.RequireHuman = []policy.Glob{policy.NewGlob(strings.Join(mdtest.Hostile, "|"))}
	var files []change.File
	for _, h := range mdtest.Hostile {
		files = append(files, change.File{Path: "db/migrate/" + h, Status: change.Added, Additions: 1,
			Patch: "@@ -0,0 +1 @@\n+DROP TABLE \"" + h + "\";"})
	}
	// A hostile directory's Dockerfile: its path is the full build's reason.
	files = append(files, change.File{Path: mdtest.Hostile[3] + mdtest.Hostile[1] + "/Dockerfile", Status: change.Modified, Additions: 1})
	v := view(files, p, false, nil)
	v.PolicySource = ".github/ferry.yml at " + mdtest.Hostile[0]
	v.Control = Control{Paused: &Pause{By: "max", Reason: strings.Join(mdtest.Hostile, " ")}}
	// Dockerfile findings: the path, the image name and the command are the pull request's.
	for i, h := range mdtest.Hostile {
		v.Dockerfiles = append(v.Dockerfiles, NewDockerfileNote(h+"/Dockerfile", dockerfile.Finding{Rule: "run-cd", Line: i + 1,
			Message: "`cd " + h + "` inside RUN", Suggestion: "WORKDIR " + h}),
			NewDockerfileNote("Dockerfile", dockerfile.Finding{Rule: "base-unpinned", Line: 1, Message: "`" + h + "` has no tag", Fixable: true}))
	}
	// A second opinion's words and the paths it names come from a model
	// that read the pull request.
	op := riskpkg.Opinion{Model: mdtest.Hostile[2], Tokens: 10}
	for i, h := range mdtest.Hostile {
		op.Concerns = append(op.Concerns, riskpkg.Concern{Path: "db/migrate/" + h, Line: i + 1, Severity: riskpkg.High, Summary: h + " " + h})
	}
	v.Opinion = &op
	risk, err := r.RiskMarkdown(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "risk-hostile.md", risk)
	invalid, err := r.InvalidPolicy(InvalidPolicyView{Path: policy.Path, Ref: mdtest.Hostile[5],
		Problems: []policy.Problem{{Line: 3, Message: "additional property " + mdtest.Hostile[3]}}})
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := r.Deploy(DeployView{ID: "cmd-`x`-0", Kind: "deploy", Short: "9f3c2a1b", Environment: mdtest.Hostile[1], Status: "running",
		Badge: "🚢", Strategy: "canary", Reasons: strings.Join(mdtest.Hostile, "; "), Actor: "max",
		Message: "held: " + strings.Join(mdtest.Hostile, " "), Steps: []DeployStepView{{1, "update " + mdtest.Hostile[4] + " | x", "done", "1s"}}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "deploy-hostile.md", deploy)
	for name, out := range map[string]string{"risk": risk, "invalid policy": invalid, "deploy": deploy} {
		for _, p := range mdtest.Problems(out) {
			t.Errorf("%s comment: %s", name, p)
		}
	}
}

// TestMarkdownOracle: the checker itself sees what GitHub would render.
func TestMarkdownOracle(t *testing.T) {
	for _, raw := range []string{"see @org/all", "![x](https://e.example/x.png)", "<img src=x>", "go to https://e.example/x"} {
		if len(mdtest.Problems(raw)) == 0 {
			t.Errorf("%q: no problem found", raw)
		}
	}
	if p := mdtest.Problems("<sub>`@org/all` in code</sub>\n\n<details><summary>x</summary>\n\ny\n</details>"); len(p) != 0 {
		t.Errorf("ferry's own tags and code: %v", p)
	}
}
