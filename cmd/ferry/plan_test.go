package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/route"
)

// TestPlan: ferry plan routes a real repository's change — what changed
// decides a full build, the risk level the rest — and says why.
func TestPlan(t *testing.T) {
	baseFiles := map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.22\n",
		"main.go":           "package main\n\nfunc main() {}\n",
		"Dockerfile":        "FROM golang:1.22\nCOPY . .\nRUN go build .\n",
		"README.md":         "# m\n",
		"db/migrate/.keep":  "",
		".github/ferry.yml": "version: 1\nrisk:\n  require_human: ['billing/**']\n",
	}
	tests := []struct {
		name   string
		change map[string]string
		want   map[string]string // JSON fields
		why    string            // in reasons.build
	}{
		{"a Dockerfile change builds from scratch", map[string]string{"Dockerfile": "FROM golang:1.23\nCOPY . .\nRUN go build .\n"},
			map[string]string{"build": "full"}, "Dockerfile changed: Dockerfile"},
		{"a named Dockerfile too", map[string]string{"deploy/worker.Dockerfile": "FROM alpine:3.20\n"},
			map[string]string{"build": "full"}, "Dockerfile changed: deploy/worker.Dockerfile"},
		{"docs only: low risk, cached", map[string]string{"README.md": "# m\n\nMore words.\n"},
			map[string]string{"build": "cached", "tests": "targeted", "deploy": "rolling", "level": "low"}, "low risk: layer cache reused"},
		{"dependencies: full", map[string]string{"go.mod": "module example.com/m\n\ngo 1.23\n"},
			map[string]string{"build": "full"}, "dependencies changed: go.mod"},
		{"a destructive migration: high risk, canary", map[string]string{"db/migrate/002_drop.sql": "DROP TABLE users;\n"},
			map[string]string{"build": "standard", "tests": "full+extra", "deploy": "canary", "level": "high"}, "high risk: layer cache reused, base images pulled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := gittest.New(t)
			base := r.Commit("base", baseFiles)
			head := r.Commit("change", tt.change)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"plan", "--repo", r.Dir, "--base", base, "--head", head}, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %s\n%s", k, got[k], v, out.String())
				}
			}
			reasons, _ := got["reasons"].(map[string]any)
			build, _ := reasons["build"].([]any)
			if len(build) == 0 || build[0] != tt.why || got["base"] != base || got["head"] != head {
				t.Errorf("reasons or commits:\n%s", out.String())
			}
			for _, k := range []string{"tests", "deploy"} {
				if l, _ := reasons[k].([]any); len(l) == 0 {
					t.Errorf("no %s reasons:\n%s", k, out.String())
				}
			}
		})
	}
}

// TestPlan_GitHubOutput: the github-output format is one name=value line
// per output, and the policy comes from the base, as on a pull request.
func TestPlan_GitHubOutput(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", map[string]string{"README.md": "# m\n", ".github/ferry.yml": "version: 1\nrisk:\n  require_human: ['docs/**']\n"})
	head := r.Commit("change", map[string]string{"docs/build=cached/Dockerfile": "FROM scratch\n", "README.md": "# m\n\nx\n"})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"plan", "--repo", r.Dir, "--base", base, "--head", head, "--format", "github-output"},
		&out, io.Discard); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	var names []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		name, value, ok := strings.Cut(line, "=")
		if _, dup := got[name]; !ok || dup {
			t.Fatalf("line %q is not a new name=value:\n%s", line, out.String())
		}
		got[name] = value
		names = append(names, name)
	}
	want := "build tests deploy level fast_path approval build_reasons tests_reasons deploy_reasons approval_reasons"
	if strings.Join(names, " ") != want {
		t.Fatalf("outputs %v, want %s", names, want)
	}
	if got["build"] != "full" || got["build_reasons"] != "Dockerfile changed: docs/build=cached/Dockerfile" ||
		got["approval"] != "true" || got["approval_reasons"] != "touches docs/** (policy: require_human)" {
		t.Errorf("%+v", got)
	}
	if got["fast_path"] != "true" && got["fast_path"] != "false" {
		t.Errorf("fast_path=%s", got["fast_path"])
	}
	if err := run(context.Background(), []string{"plan", "--repo", r.Dir, "--base", "no-such-ref"}, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--base") {
		t.Errorf("a bad base: %v", err)
	}
}

// TestGitHubOutput_OneLine: a value holding a line break (a path may)
// stays on its line: GitHub would read the rest as another output.
func TestGitHubOutput_OneLine(t *testing.T) {
	got := githubOutput(route.CI{Build: "full", Reasons: route.Reasons{Build: []string{"Dockerfile changed: a\nbuild=cached\r/Dockerfile", "x\u2028y"}}})
	if !strings.Contains(got, "\nbuild_reasons=Dockerfile changed: a build=cached /Dockerfile; x y\n") || strings.Count(got, "\n") != 10 {
		t.Errorf("output:\n%s", got)
	}
}
