package dockerfile

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestAttack_DockerfileHuge: a Dockerfile is anyone's with write access;
// what ferry reads of it is bounded — a file over MaxSize is refused,
// thousands of instructions give at most MaxFindings findings and a
// bounded number of fixes.
func TestAttack_DockerfileHuge(t *testing.T) {
	if _, err := Parse([]byte(strings.Repeat("#", MaxSize+1))); err == nil {
		t.Fatal("a file over MaxSize was read")
	}
	many := func(n int, line string) []byte {
		var b strings.Builder
		b.WriteString("FROM debian:bookworm\n")
		for range n {
			b.WriteString(line)
		}
		return []byte(b.String())
	}
	if _, err := Parse(many(MaxInstructions+1, "RUN true\n")); err == nil {
		t.Fatal("more instructions than MaxInstructions were read")
	}
	if _, err := Parse(many(MaxStages+1, "FROM scratch\n")); err == nil {
		t.Fatal("more stages than MaxStages were read")
	}
	// The slow paths the limits bound: a copy-all before an install, and
	// apt's later-install scan, thousands of times.
	f, err := Parse(many(MaxInstructions-2, "RUN apt-get update && apt-get install -y a\n"))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := Parse(many((MaxInstructions-2)/2, "COPY . .\nRUN npm ci\n")); err != nil || len(Analyze(g, Options{})) == 0 {
		t.Fatalf("copy-all file: %v", err)
	}
	if n := len(Analyze(f, Options{})); n != MaxFindings {
		t.Fatalf("%d findings", n)
	}
	rw, err := Fix(context.Background(), f, Options{})
	if err != nil || rw.Changed() || len(rw.Checks.Problems) != 1 {
		t.Fatalf("a huge file rewritten: %v %+v", err, rw.Checks)
	}
	small, err := Parse([]byte("FROM debian:bookworm\nRUN apt-get update && apt-get install -y a\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fix(ctx, small, Options{}); err == nil {
		t.Fatal("a cancelled rewrite went on")
	}
}

// TestAttack_DockerfileSecretValue: a secret set by ENV or ARG is named,
// its value never repeated — not in a finding, not in a suggestion.
func TestAttack_DockerfileSecretValue(t *testing.T) {
	f, err := Parse([]byte("FROM alpine:3.22\nARG GITHUB_TOKEN=ghp_abcdefabcdefabcdef\nENV DB_PASSWORD=hunter2 AWS_SECRET_ACCESS_KEY=AKIAXX\nUSER 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	fs := Analyze(f, Options{})
	data, _ := json.Marshal(fs)
	for _, v := range []string{"ghp_abcdef", "hunter2", "AKIAXX"} {
		if strings.Contains(string(data), v) {
			t.Fatalf("the value %q is in the findings: %s", v, data)
		}
	}
	if len(fs) != 3 {
		t.Fatalf("findings %s", data)
	}
}

// TestAttack_DockerfileContextEscape: a requirements file named outside
// the build context (or in a directory of it) is never read, and no
// rewrite copies it.
func TestAttack_DockerfileContextEscape(t *testing.T) {
	read := map[string]bool{}
	ctxFiles := map[string]string{"requirements.txt": "flask\n", "../secrets.txt": "x\n", "sub/r.txt": "flask\n", ".dockerignore": ".git\n"}
	o := Options{Context: func(name string) ([]byte, bool) {
		read[name] = true
		s, ok := ctxFiles[name]
		return []byte(s), ok
	}}
	for _, req := range []string{"../secrets.txt", "/etc/passwd", "sub/r.txt"} {
		f, err := Parse([]byte("FROM python:3.13-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r " + req + "\nUSER 1\n"))
		if err != nil {
			t.Fatal(err)
		}
		for _, fd := range Analyze(f, o) {
			if fd.Rule == "cache-order" && fd.Fixable {
				t.Fatalf("-r %s: a rewrite copies it", req)
			}
		}
	}
	if read["../secrets.txt"] || read["/etc/passwd"] {
		t.Fatalf("read %v", read)
	}
}
