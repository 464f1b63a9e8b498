package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/dbtest"
)

// TestGitHubAPIURL: the App's tokens go over https, or in clear text only
// to this machine.
func TestGitHubAPIURL(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://api.github.com/":          true,
		"https://ghe.example.com/api/v3/":  true,
		"http://127.0.0.1:8080/":           true,
		"http://127.1.2.3/":                true,
		"http://localhost:9000/api/v3/":    true,
		"http://LOCALHOST/":                true,
		"http://[::1]:8080/":               true,
		"http://api.github.com/":           false,
		"http://10.0.0.1/":                 false,
		"http://[::ffff:10.0.0.1]/":        false,
		"http://localhost.example.com/":    false,
		"http://127.0.0.1.nip.io/":         false,
		"http://0.0.0.0/":                  false,
		"ftp://127.0.0.1/":                 false,
		"https:///no-host":                 false,
		"http://user:pass@github.example/": false,
	} {
		g := GitHubFlags{GitHubAPIURL: url}
		if err := g.validate(); (err == nil) != ok {
			t.Errorf("%s: %v, want accepted=%v", url, err, ok)
		}
	}
}

// TestJSONOutput: every --format json command prints exactly one valid
// JSON value on stdout, whatever the data (empty included); logs go to
// stderr.
func TestJSONOutput(t *testing.T) {
	empty := dbtest.SQLiteURL(t)
	withDecisions := dbtest.SQLiteURL(t)
	db := dbtest.Open(t, withDecisions)
	for i := range 3 {
		d := audit.Decision{ID: fmt.Sprint("d-", i), At: time.Now(), RepositoryID: 1, Repository: "acme/api",
			Subject: "pr:1", Kind: "assessment", Actor: audit.Ferry, Output: "low"}
		if err := db.RecordDecision(context.Background(), d, 0); err != nil {
			t.Fatal(err)
		}
	}
	noCommits := filepath.Join(t.TempDir(), "none.jsonl")
	if err := os.WriteFile(noCommits, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	repo := gitRepo(t) // two commits, no reverts: the AUC is undefined
	for _, c := range []struct {
		name  string
		args  []string
		check func(t *testing.T, out []byte)
	}{
		{"audit, no decisions", []string{"audit", "--database=" + empty}, func(t *testing.T, out []byte) {
			if string(out) != "[]\n" {
				t.Errorf("stdout %q, want []", out)
			}
		}},
		{"audit, decisions", []string{"audit", "--database=" + withDecisions}, func(t *testing.T, out []byte) {
			var ds []audit.Decision
			if err := json.Unmarshal(out, &ds); err != nil || len(ds) != 3 {
				t.Errorf("%d decisions, %v, want an array of 3:\n%s", len(ds), err, out)
			}
		}},
		{"calibrate, no commits", []string{"calibrate", "--commits", noCommits}, nil},
		{"calibrate, no reverts", []string{"calibrate", "--repo", repo}, func(t *testing.T, out []byte) {
			if !bytes.Contains(out, []byte(`"auc": null`)) {
				t.Errorf("want an undefined AUC as null:\n%s", out)
			}
		}},
		{"analyze", []string{"analyze", "--repo", repo}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := run(context.Background(), append(c.args, "--format", "json"), &stdout, &stderr); err != nil {
				t.Fatalf("%v\nstderr: %s", err, stderr.String())
			}
			dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
			var v any
			if err := dec.Decode(&v); err != nil || dec.More() {
				t.Fatalf("stdout is not one JSON value (%v):\n%s", err, stdout.String())
			}
			if strings.Contains(stdout.String(), "level=") {
				t.Error("a log line on stdout")
			}
			if c.check != nil {
				c.check(t, stdout.Bytes())
			}
		})
	}
}
