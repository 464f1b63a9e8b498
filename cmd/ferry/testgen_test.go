package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/gittest"
	"github.com/ferry-ci/ferry/internal/testgen"
)

// clampChange is testgen's test data as a real repository: a base commit
// with Clamp and its test, a head commit with code no test covers.
func clampChange(t *testing.T) (r *gittest.Repo, base, head string) {
	t.Helper()
	// The go command must see the test data module alone.
	t.Setenv("GOWORK", "off")
	t.Setenv("GOFLAGS", "")
	t.Setenv("GOTOOLCHAIN", "local")
	read := func(dir string) map[string]string {
		files := map[string]string{}
		for _, name := range []string{"go.mod", "clamp.go", "clamp_test.go"} {
			data, err := os.ReadFile(filepath.Join("../../internal/testgen/testdata/clamp", dir, name))
			if err == nil {
				files[name] = string(data)
			}
		}
		return files
	}
	r = gittest.New(t)
	return r, r.Commit("base", read("base")), r.Commit("head", read("head"))
}

// noCandidates is a generator that proposes nothing.
type noCandidates struct{}

func (noCandidates) Generate(context.Context, string, []testgen.Target) ([]testgen.Candidate, error) {
	return nil, nil
}

// TestTestgen_JSON: with no candidates the command still reports the
// targets and the coverage of the changed lines, in the JSON the issue
// names.
func TestTestgen_JSON(t *testing.T) {
	r, base, head := clampChange(t)
	var out bytes.Buffer
	cmd := &TestgenCmd{Repo: r.Dir, Base: base, Head: head, Format: "json", Timeout: 5 * time.Minute, Race: "off", Go: "go",
		gen: func() testgen.Generator { return noCandidates{} }}
	if err := cmd.Run(&env{ctx: context.Background(), cli: &CLI{}, stdout: &out, stderr: io.Discard}); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := map[string]any{"base": base, "head": head, "race": false, "candidates": 0.0, "kept": []any{}, "dropped": []any{},
		"changed_lines": 12.0, "changed_lines_covered_before": 1.0, "changed_lines_covered_after": 1.0,
		"changed_lines_coverage_before": 1.0 / 12, "changed_lines_coverage_after": 1.0 / 12}
	for k, v := range want {
		if d := cmp.Diff(v, got[k]); d != "" {
			t.Errorf("%s (-want +got):\n%s", k, d)
		}
	}
	targets, _ := got["targets"].([]any)
	if len(targets) != 2 || !strings.Contains(out.String(), `"func": "Wrap"`) {
		t.Errorf("targets:\n%s", out.String())
	}
	if stages, _ := got["stages"].(map[string]any); len(stages) == 0 || stages["compile"] != 0.0 {
		t.Errorf("stages: %v", got["stages"])
	}
}

// goodWrap proposes one test for Wrap that checks what it does.
type goodWrap struct{}

func (goodWrap) Generate(context.Context, string, []testgen.Target) ([]testgen.Candidate, error) {
	src := `package clamp

import "testing"

func TestWrapCases(t *testing.T) {
	for _, tt := range []struct{ v, n, want int }{{7, 5, 2}, {-1, 5, 4}, {5, 5, 0}, {3, 0, 0}} {
		if got := Wrap(tt.v, tt.n); got != tt.want {
			t.Errorf("Wrap(%d, %d) = %d, want %d", tt.v, tt.n, got, tt.want)
		}
	}
}
`
	return []testgen.Candidate{
		{Name: "TestWrapCases", File: "wrap_test.go", Source: src, Origin: "fake", Target: "Wrap"},
		{Name: "TestWrapNothing", File: "nothing_test.go", Source: "package clamp\n\nimport \"testing\"\n\nfunc TestWrapNothing(t *testing.T) {}\n", Origin: "fake", Target: "Wrap"},
	}, nil
}

// TestTestgen_Write: with a generator, the kept test is reported with its
// source and, with --write, lands in the working tree; the text report
// says what was kept and dropped.
func TestTestgen_Write(t *testing.T) {
	r, base, head := clampChange(t)
	var out, progress bytes.Buffer
	cmd := &TestgenCmd{Repo: r.Dir, Base: base, Head: head, Format: "text", Write: true, Timeout: 5 * time.Minute, Race: "off", Go: "go",
		gen: func() testgen.Generator { return goodWrap{} }}
	if err := cmd.Run(&env{ctx: context.Background(), cli: &CLI{}, stdout: &out, stderr: &progress}); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	for _, want := range []string{"changed lines covered: 8% (1/12) before, 83% (10/12) with the kept tests",
		"candidates: 2, kept 1, dropped 1", "kept    TestWrapCases (wrap_test.go) for Wrap", "dropped TestWrapNothing (nothing_test.go) for Wrap, fake: coverage:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
	data, err := os.ReadFile(filepath.Join(r.Dir, "wrap_test.go"))
	if err != nil || !strings.Contains(string(data), "func TestWrapCases") {
		t.Errorf("wrap_test.go not written: %v", err)
	}
	if _, err := os.Stat(filepath.Join(r.Dir, "nothing_test.go")); err == nil {
		t.Error("a dropped test was written")
	}
	// Written once, a second --write would overwrite it: refused.
	if err := cmd.Run(&env{ctx: context.Background(), cli: &CLI{}, stdout: io.Discard, stderr: io.Discard}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second write: %v", err)
	}
	// --write is for the checked-out commit only.
	cmd.Head = base
	if err := cmd.Run(&env{ctx: context.Background(), cli: &CLI{}, stdout: io.Discard, stderr: io.Discard}); err == nil || !strings.Contains(err.Error(), "--write") {
		t.Errorf("write at another commit: %v", err)
	}
}
