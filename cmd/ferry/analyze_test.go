package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepo makes a real repository with the git CLI: a main branch and a
// feature branch that adds a destructive migration and an auth change.
func gitRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@x", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@x")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(path, content string) {
		t.Helper()
		p := filepath.Join(dir, path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q", "-b", "main")
	write("README.md", "# app\n")
	write("internal/auth/session.go", "package auth\n\nfunc Valid() bool { return true }\n")
	run("add", ".")
	run("commit", "-q", "-m", "initial")
	run("checkout", "-q", "-b", "feature")
	write("db/migrate/002_cleanup.sql", "ALTER TABLE users DROP COLUMN legacy;\nDROP TABLE sessions_old;\n")
	write("internal/auth/session.go", "package auth\n\nfunc Valid(token string) bool {\n\treturn token != \"\"\n}\n")
	run("add", ".")
	run("commit", "-q", "-m", "drop legacy columns")
	return dir
}

func TestAnalyze(t *testing.T) {
	dir := gitRepo(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"analyze", "--repo", dir, "--format", "json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Score   int
		Level   string
		Reasons []struct {
			Rule     string
			Weight   float64
			Evidence []struct {
				Path string
				Line int
			}
		}
		Route struct{ Deploy string }
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	rules := map[string][]int{}
	for _, r := range got.Reasons {
		for _, e := range r.Evidence {
			rules[r.Rule] = append(rules[r.Rule], e.Line)
		}
	}
	if got.Level != "high" || got.Route.Deploy != "canary" {
		t.Errorf("level %s, deploy %s; want high, canary", got.Level, got.Route.Deploy)
	}
	if lines := rules["destructive-sql"]; len(lines) != 2 || lines[0] != 1 || lines[1] != 2 {
		t.Errorf("destructive SQL evidence lines %v, want [1 2]", lines)
	}
	if _, ok := rules["auth"]; !ok {
		t.Errorf("no auth reason: %+v", got.Reasons)
	}

	out.Reset()
	if err := run(context.Background(), []string{"analyze", "--repo", dir, "--format", "markdown"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "**high risk**") || !strings.Contains(out.String(), "`db/migrate/002_cleanup.sql:1`") {
		t.Errorf("markdown:\n%s", out.String())
	}
}

func TestAnalyzeReadsPolicyFromBase(t *testing.T) {
	dir := gitRepo(t)
	var out bytes.Buffer
	// No policy at the base: defaults.
	if err := run(context.Background(), []string{"analyze", "--repo", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "policy: defaults") {
		t.Fatalf("output:\n%s", out.String())
	}
	bad := filepath.Join(t.TempDir(), "ferry.yml")
	_ = os.WriteFile(bad, []byte("risk:\n  thresholds: {medium: 90, high: 10}\n"), 0o644)
	err := run(context.Background(), []string{"analyze", "--repo", dir, "--policy", bad}, io.Discard, io.Discard)
	if code := exitCode(err, io.Discard); code != 2 || !strings.Contains(err.Error(), "medium (90) must be below high (10)") {
		t.Fatalf("invalid policy: exit %d, %v", code, err)
	}
}

func TestCalibrateCommits(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"calibrate", "--commits", "testdata/navidrome-first-1200.jsonl", "--format", "json"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"commits", "reverted", "recall_medium_plus", "fast_path_share", "auc"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, out.String())
		}
	}
	if r["commits"].(float64) != 1200 {
		t.Errorf("commits %v", r["commits"])
	}
}

func TestCalibrateRepo(t *testing.T) {
	dir := gitRepo(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"calibrate", "--repo", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "commits") || !strings.Contains(out.String(), "ROC AUC") {
		t.Fatalf("output:\n%s", out.String())
	}
}

// TestCalibrateFastPathFromPolicy: without --fast-path, the target is the
// policy's fast_path_share; an impossible share is a usage error.
func TestCalibrateFastPathFromPolicy(t *testing.T) {
	pol := filepath.Join(t.TempDir(), "ferry.yml")
	if err := os.WriteFile(pol, []byte("version: 1\nrisk:\n  fast_path_share: 0.8\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"calibrate", "--commits", "testdata/navidrome-first-1200.jsonl", "--policy", pol,
		"--format", "json"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Suggested struct {
			FastPathShare float64 `json:"fast_path_share"`
		} `json:"suggested"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Suggested.FastPathShare < 0.75 {
		t.Fatalf("suggested for the policy's 80%%: %+v (%v)", r.Suggested, err)
	}
	err = run(context.Background(), []string{"calibrate", "--commits", "testdata/navidrome-first-1200.jsonl", "--fast-path", "1.5"},
		io.Discard, io.Discard)
	if code := exitCode(err, io.Discard); code != 2 {
		t.Fatalf("--fast-path 1.5: exit %d (%v)", code, err)
	}
}
