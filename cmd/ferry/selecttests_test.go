package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/gittest"
)

// TestSelectTests: ferry select-tests prints what a change's tests are in
// each format a workflow uses, and refuses what it cannot read.
func TestSelectTests(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", smallModule(map[string]string{
		"c/c_test.go":                  "package c\n",
		".github/ferry-quarantine.yml": "version: 1\ntests:\n  - {test: example.com/m/a.TestA, issue: 7}\n  - {test: example.com/m/c.TestC}\n",
	}))
	// The change also quarantines a test of its own: the base's list counts.
	head := r.Commit("change b", map[string]string{"b/b.go": "package b\n\n// changed\n",
		".github/ferry-quarantine.yml": "version: 1\ntests:\n  - {test: example.com/m/a.TestA, issue: 7}\n  - {test: example.com/m/c.TestC}\n  - {test: example.com/m/b.TestMine}\n"})
	selectTests := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"select-tests", "--repo", r.Dir, "--base", base, "--head", head}, args...), &out, io.Discard)
		return out.String(), err
	}
	out, err := selectTests("--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var sel struct {
		Quarantined []struct {
			Test  string `json:"test"`
			Issue int    `json:"issue"`
		} `json:"quarantined"`
		All     bool `json:"all"`
		Targets []struct {
			Name    string   `json:"name"`
			Reasons []string `json:"reasons"`
		} `json:"targets"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(out), &sel); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(sel.Quarantined) != 2 || sel.Quarantined[0].Test != "example.com/m/a.TestA" || sel.Quarantined[0].Issue != 7 {
		t.Fatalf("quarantined %+v", sel.Quarantined)
	}
	if sel.All || sel.Total != 3 || len(sel.Targets) != 2 || sel.Targets[0].Name != "example.com/m/a" || sel.Targets[1].Reasons[0] != "b/b.go" {
		t.Fatalf("%+v", sel)
	}
	if out, _ := selectTests("--format", "go-packages"); out != "example.com/m/a\nexample.com/m/b\n" {
		t.Fatalf("go-packages:\n%s", out)
	}
	if out, _ := selectTests("--format", "github-output"); out != "all=false\npackages=example.com/m/a example.com/m/b\ncount=2\ntotal=3\nquarantined=^(TestA)$\n" {
		t.Fatalf("github-output:\n%s", out)
	}
	if _, err := selectTests("--base", "no-such-ref"); err == nil || !strings.Contains(err.Error(), "--base") {
		t.Fatalf("a bad base: %v", err)
	}
}

// smallModule is a module of three packages, a importing b, with extra
// files.
func smallModule(extra map[string]string) map[string]string {
	files := map[string]string{
		"go.mod": "module example.com/m\n\ngo 1.22\n",
		"a/a.go": "package a\n\nimport _ \"example.com/m/b\"\n",
		"b/b.go": "package b\n",
		"c/c.go": "package c\n",
	}
	maps.Copy(files, extra)
	return files
}

// TestSelectTests_BasePolicy: the tests map is the base's: a change that
// maps its own files away selects as before.
func TestSelectTests_BasePolicy(t *testing.T) {
	r := gittest.New(t)
	base := r.Commit("base", smallModule(map[string]string{
		".github/ferry.yml": "version: 1\ntests:\n  map:\n    - {glob: 'docs/**', targets: [docs-lint]}\n"}))
	head := r.Commit("change", map[string]string{"docs/a.md": "a\n", "Makefile": "x:\n",
		".github/ferry.yml": "version: 1\ntests:\n  map:\n    - {glob: '**', targets: [nothing]}\n"})
	var out bytes.Buffer
	if err := run(context.Background(), []string{"select-tests", "--repo", r.Dir, "--base", base, "--head", head, "--format", "github-output"},
		&out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "all=true\n") {
		t.Fatalf("the change's own map was used:\n%s", out.String())
	}
}
