package riskagent

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
	"github.com/ferry-ci/ferry/internal/testsel"
)

// block is the fenced JSON block under a check run text's heading.
func block(t *testing.T, text, heading string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, "### "+heading+"\n")
	if !ok {
		t.Fatalf("no %q section:\n%s", heading, text)
	}
	i := strings.Index(rest, "json\n")
	fence := strings.TrimLeft(rest[:i], "\n")
	fence = fence[strings.LastIndexByte(fence, '\n')+1:]
	body, _, ok := strings.Cut(rest[i+len("json\n"):], "\n"+fence+"\n")
	if !ok || strings.Trim(fence, "`") != "" || len(fence) < 3 {
		t.Fatalf("no closed %q block (fence %q):\n%s", heading, fence, text)
	}
	return body
}

// TestCheckText: the check run carries the build plan as a JSON block a
// workflow reads — with and without a test plan, whatever the paths hold.
func TestCheckText(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		level  risk.Level
		tests  *TestPlan
		want   route.CI
		prefix string // what the text starts with
	}{
		{"no test plan: the build block alone", []string{"README.md"}, risk.Low, nil,
			route.CI{Build: "cached", Tests: "targeted", Deploy: policy.Rolling, Level: risk.Low, FastPath: true, Reasons: route.Reasons{
				Build: []string{"low risk: layer cache reused"}, Tests: []string{"low risk: only the tests the change can affect"},
				Deploy: []string{"low risk: rolling, metrics watched for 5 min"}}}, "### Build\n"},
		{"after the test plan, which stays first", []string{"Dockerfile", "a/a.go"}, risk.Medium,
			planOf("full", testsel.Selection{Total: 3}),
			route.CI{Build: "full", Tests: "full", Deploy: policy.Rolling, Level: risk.Medium, Reasons: route.Reasons{
				Build: []string{"Dockerfile changed: Dockerfile"}, Tests: []string{"medium risk: the full suite"},
				Deploy: []string{"medium risk: rolling, metrics watched for 15 min"}}}, "### Tests\n"},
		{"a path with backticks cannot close the block", []string{"x````y/Dockerfile"}, risk.High, nil,
			route.CI{Build: "full", Tests: "full+extra", Deploy: policy.Canary, Level: risk.High, Reasons: route.Reasons{
				Build: []string{"Dockerfile changed: x````y/Dockerfile"}, Tests: []string{"high risk: the full suite and the extra checks"},
				Deploy: []string{"high risk: canary, metrics watched for 30 min"}}}, "### Build\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ch change.Change
			for _, p := range tt.files {
				ch.Files = append(ch.Files, change.File{Path: p, Status: change.Modified})
			}
			text := checkText(route.Make(risk.Assessment{Level: tt.level}, ch, policy.Default()), tt.tests)
			if !strings.HasPrefix(text, tt.prefix) {
				t.Errorf("text starts %q, want %q", text[:min(len(text), 20)], tt.prefix)
			}
			var got route.CI
			if err := json.Unmarshal([]byte(block(t, text, "Build")), &got); err != nil {
				t.Fatalf("%v\n%s", err, text)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("build block (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCheckText_Limit: a selection too long for GitHub's limit is published
// as "run everything", so both blocks stay whole and parse.
func TestCheckText_Limit(t *testing.T) {
	sel := testsel.Selection{Total: 2000}
	for i := range maxPlanTargets {
		var reasons []string
		for j := range 10 {
			reasons = append(reasons, fmt.Sprintf("services/service-%04d/internal/handlers/file_%02d.go", i, j))
		}
		sel.Targets = append(sel.Targets, testsel.Target{Name: fmt.Sprintf("example.com/m/services/service-%04d", i), Kind: "go", Reasons: reasons})
	}
	plan := route.Make(risk.Assessment{Level: risk.Low}, change.Change{Files: []change.File{{Path: "go.sum"}}}, policy.Default())
	text := checkText(plan, planOf("targeted", sel))
	if n := utf8.RuneCountInString(text); n > maxCheckText {
		t.Fatalf("%d characters, over GitHub's %d", n, maxCheckText)
	}
	var tp TestPlan
	if err := json.Unmarshal([]byte(block(t, text, "Tests")), &tp); err != nil || !tp.All || tp.Total != 2000 || len(tp.Targets) != 0 {
		t.Errorf("tests block %+v (%v)", tp, err)
	}
	var ci route.CI
	if err := json.Unmarshal([]byte(block(t, text, "Build")), &ci); err != nil || ci.Build != "full" {
		t.Errorf("build block %+v (%v)", ci, err)
	}
	// Paths as long as git allows: the build block stays small, its paths
	// cut.
	var long change.Change
	for i := range 20 {
		long.Files = append(long.Files, change.File{Path: strings.Repeat(string(rune('a'+i)), 12000) + "/Dockerfile"})
	}
	long.Files = append(long.Files, change.File{Path: strings.Repeat("x/", 50000) + "go.sum"})
	text = checkText(route.Make(risk.Assessment{Level: risk.Low}, long, policy.Default()), nil)
	if n := utf8.RuneCountInString(text); n > maxCheckText/10 || json.Unmarshal([]byte(block(t, text, "Build")), &ci) != nil {
		t.Errorf("long paths: %d characters", n)
	}
	if small := checkText(plan, planOf("targeted", testsel.Selection{Total: 3, Targets: sel.Targets[:2]})); !strings.Contains(small, "of 3 packages") {
		t.Errorf("a selection that fits is listed:\n%s", small)
	}
}

// TestBuildText_Escaped: the line for people escapes the paths it names.
func TestBuildText_Escaped(t *testing.T) {
	plan := route.Make(risk.Assessment{Level: risk.Low}, change.Change{Files: []change.File{{Path: "@org/all/Dockerfile"}}}, policy.Default())
	line, _, _ := strings.Cut(strings.TrimPrefix(buildText(plan), "### Build\n\n"), "\n")
	if strings.Contains(line, "@org") {
		t.Errorf("a mention in the line: %s", line)
	}
	if old := (route.Plan{Build: "standard", Tests: "full", Deploy: policy.Rolling}); !strings.HasPrefix(buildText(old), "### Build\n\nBuild: standard. Tests: full. Deploy: rolling.\n") {
		t.Errorf("a route stored before reasons:\n%s", buildText(old))
	}
}
