package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func view(files []change.File, p policy.Policy, truncated bool, prev *Previous) RiskView {
	a := risk.Assess(risk.Input{Change: change.Change{Files: files, Truncated: truncated}, Policy: p, Now: now})
	return NewRiskView(a, route.Make(a, change.Change{Files: files, Truncated: truncated}, p), "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", "defaults", len(files), prev)
}

func cases() map[string]RiskView {
	strict := policy.Default()
	strict.HighRiskConclusion = "action_required"
	strict.RequireHuman = []policy.Glob{policy.NewGlob("db/**")}
	var huge []change.File
	for i := range 3000 {
		huge = append(huge, change.File{Path: fmt.Sprintf("services/s%02d/handler_%04d.go", i%40, i), Status: change.Modified, Additions: 12, Deletions: 3})
	}
	return map[string]RiskView{
		"low": view([]change.File{
			{Path: "internal/render/render.go", Status: change.Modified, Additions: 12, Deletions: 4},
			{Path: "internal/render/render_test.go", Status: change.Modified, Additions: 30},
		}, policy.Default(), false, nil),
		"medium": view([]change.File{
			{Path: "go.mod", Status: change.Modified, Additions: 2, Deletions: 1},
			{Path: "internal/api/client.go", Status: change.Modified, Additions: 140, Deletions: 20},
			{Path: "internal/api/retry.go", Status: change.Added, Additions: 80},
		}, policy.Default(), false, &Previous{Head: "1a2b3c4d5e6f", Level: risk.Low, Score: 12, Rules: []string{"size", "spread", "docs"}}),
		"high": view([]change.File{
			{Path: "db/migrate/20261124_drop_legacy.sql", Status: change.Added, Additions: 3,
				Patch: "@@ -0,0 +1,3 @@\n+ALTER TABLE users DROP COLUMN legacy_id;\n+DROP TABLE sessions_old;\n+CREATE INDEX users_email ON users (email);"},
			{Path: "internal/auth/session.go", Status: change.Modified, Additions: 60, Deletions: 25},
			{Path: "deploy/k8s/api.yaml", Status: change.Modified, Additions: 4, Deletions: 2},
		}, strict, false, nil),
		"huge": view(huge, policy.Default(), true, nil),
		"learned": func() RiskView {
			files := []change.File{{Path: "internal/billing/charge.go", Status: change.Modified, Additions: 40, Deletions: 6}}
			a := risk.Assess(risk.Input{Change: change.Change{Files: files}, Policy: policy.Default(), Now: now}).WithLearned(risk.Learned{
				Score: 93, ModelShare: 1, Changes: 1843, Decides: true, FastPathShare: 0.6, Reasons: []risk.LearnedReason{
					{Summary: "4 reverts in the last year touched", Paths: []string{"internal/billing/charge.go"}},
					{Summary: "the author's first change under", Paths: []string{"internal/"}},
					{Summary: "adds 40 lines"}}})
			return NewRiskView(a, route.Make(a, change.Change{Files: files}, policy.Default()), "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", "defaults", 1, nil)
		}(),
		"second-opinion": func() RiskView {
			files := []change.File{{Path: "internal/auth/token.go", Status: change.Modified, Additions: 30, Deletions: 4}}
			a := risk.Assess(risk.Input{Change: change.Change{Files: files}, Policy: policy.Default(), Now: now}).WithOpinion(risk.Opinion{
				Model: "gpt-4.1", Said: risk.High, Tokens: 2310, Dropped: 1, Concerns: []risk.Concern{
					{Path: "internal/auth/token.go", Line: 42, Severity: risk.High, Summary: "the expiry check now compares with <= and accepts a token at its expiry second"},
					{Path: "internal/auth/token.go", Line: 57, Severity: risk.Low, Summary: "the error message names the user"}}})
			return NewRiskView(a, route.Make(a, change.Change{Files: files}, policy.Default()), "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", "defaults", 1, nil)
		}(),
		"second-opinion-skipped": func() RiskView {
			files := []change.File{{Path: "internal/auth/token.go", Status: change.Modified, Additions: 30, Deletions: 4}}
			a := risk.Assess(risk.Input{Change: change.Change{Files: files}, Policy: policy.Default(), Now: now}).WithOpinion(risk.Opinion{
				Model: "gpt-4.1", Skipped: "the daily token budget is spent"})
			return NewRiskView(a, route.Make(a, change.Change{Files: files}, policy.Default()), "9f3c2a1b7e6d5c4b3a2918f7e6d5c4b3a2918f7e", "defaults", 1, nil)
		}(),
		"paused-approved": func() RiskView {
			v := view([]change.File{{Path: "db/migrate/001_add.sql", Status: change.Added, Additions: 2,
				Patch: "@@ -0,0 +1,2 @@\n+CREATE TABLE t (id int);\n+DROP TABLE old;"}}, strict, false, nil)
			v.Control = Control{Paused: &Pause{By: "maintainer", Reason: "database failover in progress"}, Approved: []string{"alice"},
				Void: []VoidApproval{{By: "bob", Head: "0123456789abcdef0123"}}}
			return v
		}(),
	}
}

func TestRiskGolden(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range cases() {
		md, err := r.RiskMarkdown(v)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "risk-"+name+".md", md)
		txt, err := r.RiskText(v)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "risk-"+name+".txt", txt)
	}
}

func TestInvalidPolicyGolden(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	_, perr := policy.Parse([]byte("version: 1\nrisk:\n  thresholds:\n    medium: 80\n    high: 50\n  treshold: 3\n"))
	ie, ok := perr.(*policy.InvalidError)
	if !ok {
		t.Fatalf("parse: %v", perr)
	}
	md, err := r.InvalidPolicy(InvalidPolicyView{Path: policy.Path, Ref: "main", Problems: ie.Problems})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "policy-invalid.md", md)
}

func TestDeployGolden(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	md, err := r.Deploy(DeployView{ID: "cmd-42-0", Kind: "deploy", Short: "9f3c2a1b", Environment: "production", Status: "running",
		Badge: "🚢", Strategy: "canary", Reasons: "the risk route proposes canary", Actor: "max", Elapsed: "41s",
		Message: "step 3 of 9: hold at 5% for 30s — 12s left",
		Steps: []DeployStepView{{1, "canary 5%: 1 of 20 pods of api run ghcr.io/acme/api:9f3c2a1b", "done", "0.1s"},
			{2, "wait for the 5% canary", "done", "6.2s"}, {3, "hold at 5% for 30s", "running", "18s"}}})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "deploy.md", md)
}
