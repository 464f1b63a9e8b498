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
)

// TestDockerfileCommand: ferry dockerfile prints findings per file (json:
// rule, line, stage, message), with --fix the rewrite and its four checks,
// with --write writes a rewrite that passed them; a file BuildKit refuses
// is reported and fails the run, the others still reported.
func TestDockerfileCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "Dockerfile")
	src := "FROM python:3.13-slim AS app\nRUN pip install flask\nUSER 10001\nCMD [\"flask\", \"run\"]\n"
	if err := os.WriteFile(good, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "template.Dockerfile")
	if err := os.WriteFile(bad, []byte("FROM alpine\n{{ .Steps }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dockerfile", "--fix", "--format", "json", good}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Files []struct {
			File     string
			Findings []struct {
				Rule, Stage, Message string
				Line                 int
			}
			Rewritten *string
			Checks    struct {
				Parses, LLB, Contract bool
				Fewer                 bool `json:"fewer_findings"`
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || len(rep.Files) != 1 {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	f := rep.Files[0]
	if len(f.Findings) != 1 || f.Findings[0].Rule != "pip-no-cache-dir" || f.Findings[0].Line != 2 || f.Findings[0].Stage != "app" ||
		f.Rewritten == nil || !strings.Contains(*f.Rewritten, "pip install --no-cache-dir flask") ||
		!f.Checks.Parses || !f.Checks.LLB || !f.Checks.Contract || !f.Checks.Fewer {
		t.Fatalf("report:\n%s", out.String())
	}
	// Text, two files, one BuildKit refuses: both reported, the run fails.
	out.Reset()
	err := run(context.Background(), []string{"dockerfile", good, bad}, &out, io.Discard)
	if err == nil || !strings.Contains(out.String(), "Dockerfile:2: [pip-no-cache-dir] stage app:") || !strings.Contains(out.String(), "unknown instruction") {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	// --write: the file now has the rewrite.
	if err := run(context.Background(), []string{"dockerfile", "--fix", "--write", good}, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(good); !strings.Contains(string(data), "--no-cache-dir") {
		t.Fatalf("not written:\n%s", data)
	}
	if err := run(context.Background(), []string{"dockerfile", "--write", good}, io.Discard, io.Discard); err == nil {
		t.Fatal("--write without --fix accepted")
	}
}
