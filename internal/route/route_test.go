package route

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

func TestMake(t *testing.T) {
	strict := policy.Default()
	strict.HighRiskConclusion = "action_required"
	tests := []struct {
		name   string
		a      risk.Assessment
		p      policy.Policy
		tests  string
		build  string
		deploy policy.Strategy
		watch  time.Duration
		appr   bool
		check  string
	}{
		{"low takes the fast path", risk.Assessment{Level: risk.Low}, policy.Default(), "targeted", "cached", "rolling", 5 * time.Minute, false, "success"},
		{"medium", risk.Assessment{Level: risk.Medium}, policy.Default(), "full", "standard", "rolling", 15 * time.Minute, false, "success"},
		{"high: canary, neutral check", risk.Assessment{Level: risk.High}, policy.Default(), "full+extra", "standard", "canary", 30 * time.Minute, false, "neutral"},
		{"high under a strict policy needs a human", risk.Assessment{Level: risk.High}, strict, "full+extra", "standard", "canary", 30 * time.Minute, true, "action_required"},
		{"require_human path, even when low", risk.Assessment{Level: risk.Low, NeedsHuman: []string{"db/**"}}, policy.Default(), "targeted", "cached", "rolling", 5 * time.Minute, true, "action_required"},
		{"truncated change: no fast path, built from scratch", risk.Assessment{Level: risk.Low, Truncated: true}, policy.Default(), "full", "full", "rolling", 5 * time.Minute, false, "success"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Make(tt.a, change.Change{}, tt.p)
			if p.Tests != tt.tests || p.Build != tt.build || p.Deploy != tt.deploy || p.Watch != tt.watch || p.Approval != tt.appr || p.CheckConclusion != tt.check {
				t.Fatalf("plan %+v", p)
			}
		})
	}
}

// TestMake_Reasons: every decision says why, in words a workflow log shows.
func TestMake_Reasons(t *testing.T) {
	tests := []struct {
		name string
		a    risk.Assessment
		want Reasons
	}{
		{"low", risk.Assessment{Level: risk.Low}, Reasons{
			Build:  []string{"low risk: layer cache reused"},
			Tests:  []string{"low risk: only the tests the change can affect"},
			Deploy: []string{"low risk: rolling, metrics watched for 5 min"}}},
		{"high", risk.Assessment{Level: risk.High}, Reasons{
			Build:  []string{"high risk: layer cache reused, base images pulled"},
			Tests:  []string{"high risk: the full suite and the extra checks"},
			Deploy: []string{"high risk: canary, metrics watched for 30 min"}}},
		{"low but truncated", risk.Assessment{Level: risk.Low, Truncated: true}, Reasons{
			Build:  []string{"not every file was seen: nothing cached is trusted"},
			Tests:  []string{"not every file was seen: the full suite"},
			Deploy: []string{"low risk: rolling, metrics watched for 5 min"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Make(tt.a, change.Change{}, policy.Default()).Reasons); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMake_Build: what changed decides a full build whatever the level;
// otherwise the level decides how much of the cache is trusted.
func TestMake_Build(t *testing.T) {
	files := func(paths ...string) []change.File {
		var out []change.File
		for _, p := range paths {
			out = append(out, change.File{Path: p, Status: change.Modified})
		}
		return out
	}
	many := make([]string, 7)
	for i := range many {
		many[i] = "svc" + string(rune('a'+i)) + "/package.json"
	}
	tests := []struct {
		name  string
		level risk.Level
		files []change.File
		build string
		why   []string
	}{
		{"docs only, low", risk.Low, files("README.md", "docs/a.md"), "cached", []string{"low risk: layer cache reused"}},
		{"code, medium", risk.Medium, files("internal/a/a.go"), "standard", []string{"medium risk: layer cache reused, base images pulled"}},
		{"Dockerfile, even at low risk", risk.Low, files("docker/Dockerfile"), "full", []string{"Dockerfile changed: docker/Dockerfile"}},
		{"Containerfile", risk.Medium, files("Containerfile"), "full", []string{"Dockerfile changed: Containerfile"}},
		{"named Dockerfiles", risk.Low, files("api.Dockerfile", "Dockerfile.prod", "build/worker.dockerfile", "Dockerfile-dev"), "full",
			[]string{"Dockerfile changed: api.Dockerfile, Dockerfile.prod, build/worker.dockerfile, Dockerfile-dev"}},
		{"dockerignore", risk.Low, files(".dockerignore", "api.Dockerfile.dockerignore"), "full",
			[]string{".dockerignore changed: .dockerignore, api.Dockerfile.dockerignore"}},
		{"Go modules", risk.Low, files("go.mod", "go.sum", "main.go"), "full", []string{"dependencies changed: go.mod, go.sum"}},
		{"lockfiles of every kind", risk.Low, files("web/package-lock.json", "yarn.lock", "pnpm-lock.yaml", "requirements-dev.txt", "poetry.lock",
			"Pipfile.lock", "Gemfile.lock", "Cargo.lock", "Cargo.toml", "pom.xml", "build.gradle.kts"), "full",
			[]string{"dependencies changed: web/package-lock.json, yarn.lock, pnpm-lock.yaml, requirements-dev.txt, poetry.lock and 6 more"}},
		{"several kinds, in the table's order", risk.High, files("go.sum", "Dockerfile", ".dockerignore"), "full", []string{
			".dockerignore changed: .dockerignore", "Dockerfile changed: Dockerfile", "dependencies changed: go.sum"}},
		{"many manifests are counted, not listed", risk.Low, files(many...), "full",
			[]string{"dependencies changed: svca/package.json, svcb/package.json, svcc/package.json, svcd/package.json, svce/package.json and 2 more"}},
		{"look-alikes are not build inputs", risk.Low, files("docs/docker.md", "go.mod.bak", "mygo.sum", "dockerfiles/README.md", "requirements.md"), "cached",
			[]string{"low risk: layer cache reused"}},
		{"a Dockerfile renamed away", risk.Low, []change.File{{Path: "docs/old-build-recipe.txt", PreviousPath: "Dockerfile", Status: change.Renamed}}, "full",
			[]string{"Dockerfile changed: Dockerfile"}},
		{"a very long path is cut at its start", risk.Low, files(strings.Repeat("d/", 150) + "Dockerfile"), "full",
			[]string{"Dockerfile changed: …/" + strings.Repeat("d/", 94) + "Dockerfile"}},
		{"a removed lockfile", risk.Low, []change.File{{Path: "yarn.lock", Status: change.Removed}}, "full", []string{"dependencies changed: yarn.lock"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Make(risk.Assessment{Level: tt.level}, change.Change{Files: tt.files}, policy.Default())
			if p.Build != tt.build {
				t.Errorf("build %s, want %s", p.Build, tt.build)
			}
			if diff := cmp.Diff(tt.why, p.Reasons.Build); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCI: the published shape carries every decision and its reasons.
func TestCI(t *testing.T) {
	p := Make(risk.Assessment{Level: risk.Low, NeedsHuman: []string{"db/**"}}, change.Change{Files: []change.File{{Path: "Dockerfile"}}}, policy.Default())
	want := CI{Build: "full", Tests: "targeted", Deploy: policy.Rolling, Level: risk.Low, FastPath: true, Approval: true, Reasons: p.Reasons,
		ApprovalReasons: []string{"touches db/** (policy: require_human)"}}
	if diff := cmp.Diff(want, p.CI()); diff != "" {
		t.Errorf("CI (-want +got):\n%s", diff)
	}
}
