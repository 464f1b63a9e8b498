package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/release"
)

// releaseRepo makes a repository with a stable release, a release
// candidate after it, and conventional commits since.
func releaseRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	n := 0
	git := func(args ...string) string {
		t.Helper()
		n++
		date := fmt.Sprintf("2026-11-01T10:00:%02dZ", n)
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Ann", "GIT_AUTHOR_EMAIL=ann@example.com", "GIT_COMMITTER_NAME=Ann",
			"GIT_COMMITTER_EMAIL=ann@example.com", "GIT_AUTHOR_DATE="+date, "GIT_COMMITTER_DATE="+date, "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	commit := func(msg, path string) {
		p := filepath.Join(dir, path)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(msg), 0o644); err != nil {
			t.Fatal(err)
		}
		git("add", ".")
		git("commit", "-qm", msg)
	}
	git("init", "-q", "-b", "main")
	commit("initial", "README.md")
	git("tag", "-a", "-m", "1.0.0", "v1.0.0")
	commit("feat(api): orders (#1)", "api/orders.go")
	git("tag", "v1.1.0-rc.1")
	commit("fix: rounding (#2)", "api/money.go")
	git("tag", "not-a-release")
	commit("docs: orders (#3)", "docs/orders.md")
	return dir
}

func changelogJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"changelog", "--format", "json"}, args...), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return got
}

func TestChangelog(t *testing.T) {
	dir := releaseRepo(t)
	tests := []struct {
		name                    string
		args                    []string
		previous, version, bump any
		entries                 int
	}{
		{"since the last stable release", nil, "v1.0.0", "1.1.0", "minor", 3},
		{"on the rc channel", []string{"--prerelease", "rc"}, "v1.1.0-rc.1", "1.1.0-rc.2", "patch", 2},
		{"from a commit", []string{"--from", "HEAD~1"}, "v1.0.0", nil, "none", 1},
		{"to an earlier commit", []string{"--to", "v1.1.0-rc.1"}, "v1.0.0", "1.1.0", "minor", 1},
		{"nothing since", []string{"--from", "HEAD", "--prerelease", "rc"}, "v1.1.0-rc.1", nil, "none", 0},
		{"another pattern: the first release", []string{"--tag-pattern", "api-v{version}"}, nil, "0.1.0", "minor", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := changelogJSON(t, append([]string{"--repo", dir}, tt.args...)...)
			entries := 0
			for _, s := range got["sections"].([]any) {
				entries += len(s.(map[string]any)["entries"].([]any))
			}
			if got["previous"] != tt.previous || got["version"] != tt.version || got["bump"] != tt.bump || entries != tt.entries {
				t.Errorf("previous %v, version %v, bump %v, %d entries; want %v, %v, %v, %d",
					got["previous"], got["version"], got["bump"], entries, tt.previous, tt.version, tt.bump, tt.entries)
			}
			if _, ok := got["skipped"].([]any); !ok {
				t.Errorf("skipped is not a list: %v", got["skipped"])
			}
		})
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"changelog", "--repo", dir}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## v1.1.0\n", "A **minor** release after `v1.0.0`: 3 changes.", "- **api:** orders (#1) — Ann", "### Documentation"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"changelog", "--repo", dir, "--tag-pattern", "api-v{version}"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "## api-v0.1.0\n\nThe first release: 4 changes.\n") {
		t.Errorf("first release:\n%s", out.String())
	}
}

func TestChangelogSettings(t *testing.T) {
	dir := releaseRepo(t)
	tests := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--repo", dir, "--tag-pattern", "release"}, nil, "--tag-pattern (FERRY_TAG_PATTERN): tag pattern \"release\": must hold {version} once"},
		{[]string{"--repo", dir}, map[string]string{"FERRY_TAG_PATTERN": "v{version}-{version}"}, "--tag-pattern (FERRY_TAG_PATTERN)"},
		{[]string{"--repo", dir, "--prerelease", "rc.1"}, nil, "--prerelease (FERRY_PRERELEASE)"},
		{[]string{"--repo", dir, "--to", "nope"}, nil, "--to: resolve \"nope\""},
		{[]string{"--repo", dir, "--from", "nope"}, nil, "--from: resolve \"nope\""},
		{[]string{"--repo", t.TempDir()}, nil, "open git repository"},
		{[]string{"--repo", dir, "--format", "yaml"}, nil, "--format"},
	}
	for _, tt := range tests {
		for k, v := range tt.env {
			t.Setenv(k, v)
		}
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"changelog"}, tt.args...), &stdout, &stderr)
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line with %q", tt.args, code, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("%v: stdout %q", tt.args, stdout.String())
		}
		for k := range tt.env {
			os.Unsetenv(k)
		}
	}
}

// BenchmarkChangelog: `ferry changelog --format json` between two tags
// of a real history — the last 4,000 first-parent commits of
// prometheus/prometheus (testdata of internal/release), each merge with a
// side commit of its pull request, real subjects, titles, paths and
// reverts ("This reverts commit" names the rebuilt commit), synthetic
// file contents — from the 500th record to the head.
//
//	go test -run '^$' -bench Changelog -benchtime 5x ./cmd/ferry
func BenchmarkChangelog(b *testing.B) {
	dir, commits := historyRepo(b, filepath.Join("..", "..", "internal", "release", "testdata", "commits", "prometheus__prometheus-last-4000.jsonl.gz"), 500)
	args := []string{"changelog", "--repo", dir, "--from", "v1.0.0", "--to", "v2.0.0", "--format", "json"}
	var out bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out.Reset()
		if err := run(context.Background(), args, &out, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var n release.Notes
	if err := json.Unmarshal(out.Bytes(), &struct {
		Sections *[]release.Section `json:"sections"`
		Skipped  *[]release.Skipped `json:"skipped"`
	}{&n.Sections, &n.Skipped}); err != nil {
		b.Fatal(err)
	}
	entries := 0
	for _, s := range n.Sections {
		entries += len(s.Entries)
	}
	b.ReportMetric(float64(commits), "commits")
	b.ReportMetric(float64(entries), "entries")
	b.ReportMetric(float64(len(n.Skipped)), "skipped")
}

type fixtureRecord struct {
	SHA     string   `json:"sha"`
	Parents []string `json:"parents"`
	Subject string   `json:"subject"`
	Title   string   `json:"title"`
	Files   []string `json:"files"`
	Reverts []string `json:"reverts"`
}

// historyRepo rebuilds a commit fixture as a git repository with git
// fast-import, tags its record number from as v1.0.0 and its head as
// v2.0.0, and returns it with the number of commits between the two.
func historyRepo(b *testing.B, fixture string, from int) (string, int) {
	b.Helper()
	recs := readFixture(b, fixture)
	dir := b.TempDir()
	if out, err := exec.Command("git", "init", "-q", "-b", "main", dir).CombinedOutput(); err != nil {
		b.Fatalf("git init: %v\n%s", err, out)
	}
	marksR, marksW, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("git", "fast-import", "--quiet", "--cat-blob-fd=3")
	cmd.Dir, cmd.ExtraFiles = dir, []*os.File{marksW}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	imp := importer{w: bufio.NewWriterSize(stdin, 1<<20), marks: bufio.NewReader(marksR), sha: map[string]int{}}
	commits := 0
	for i, r := range recs {
		if i == from {
			fmt.Fprintf(imp.w, "reset refs/tags/v1.0.0\nfrom :%d\n\n", imp.mark)
		}
		if i >= from {
			commits += min(2, max(1, len(r.Parents)))
		}
		imp.record(b, r)
	}
	fmt.Fprintf(imp.w, "reset refs/tags/v2.0.0\nfrom :%d\n\n", imp.mark)
	if err := errors.Join(imp.w.Flush(), stdin.Close(), cmd.Wait(), marksR.Close(), marksW.Close()); err != nil {
		b.Fatal(err)
	}
	return dir, commits
}

func readFixture(b *testing.B, path string) []fixtureRecord {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var recs []fixtureRecord
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r fixtureRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	return recs
}

// importer writes a fast-import stream: marks number the commits.
type importer struct {
	w     *bufio.Writer
	marks *bufio.Reader
	mark  int            // the last mainline commit's
	sha   map[string]int // the fixture's SHA → its rebuilt commit's mark
}

// record writes one first-parent record: a merge gets a side commit with
// the pull request's changes first.
func (m *importer) record(b *testing.B, r fixtureRecord) {
	prev := m.mark
	msg := r.Subject
	if r.Title != "" {
		msg += "\n\n" + r.Title
	}
	for _, s := range r.Reverts {
		if k, ok := m.sha[s]; ok {
			msg += "\n\nThis reverts commit " + m.getMark(b, k) + "."
		}
	}
	side := 0
	if len(r.Parents) > 1 {
		side = m.commit(firstNonEmptyTitle(r), prev, 0, r.Files)
	}
	m.mark = m.commit(msg, prev, side, r.Files)
	m.sha[r.SHA] = m.mark
}

func firstNonEmptyTitle(r fixtureRecord) string {
	if r.Title != "" {
		return r.Title
	}
	return "side of " + r.Subject
}

func (m *importer) commit(msg string, from, merge int, files []string) int {
	m.mark++
	n := m.mark
	author := fmt.Sprintf("dev%d <dev%d@example.com> %d +0000", n%37, n%37, 1600000000+n*60)
	fmt.Fprintf(m.w, "commit refs/heads/main\nmark :%d\nauthor %s\ncommitter %s\ndata %d\n%s\n", n, author, author, len(msg), msg)
	if from > 0 {
		fmt.Fprintf(m.w, "from :%d\n", from)
	}
	if merge > 0 {
		fmt.Fprintf(m.w, "merge :%d\n", merge)
	}
	for _, p := range files {
		if p == "" || strings.ContainsAny(p, "\n\"") {
			continue
		}
		content := fmt.Sprintf("%s %d\n", p, n)
		fmt.Fprintf(m.w, "M 100644 inline %s\ndata %d\n%s\n", p, len(content), content)
	}
	m.w.WriteString("\n")
	return n
}

// getMark asks fast-import for a commit's SHA.
func (m *importer) getMark(b *testing.B, mark int) string {
	fmt.Fprintf(m.w, "get-mark :%d\n", mark)
	if err := m.w.Flush(); err != nil {
		b.Fatal(err)
	}
	line, err := m.marks.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	return strings.TrimSpace(line)
}
