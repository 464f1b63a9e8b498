package release

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// record is one line of the commit fixtures (testdata/commits/SOURCES.md).
type record struct {
	SHA     string   `json:"sha"`
	Parent  *string  `json:"parent"`
	Parents []string `json:"parents"`
	Subject string   `json:"subject"`
	Title   string   `json:"title"`
	PR      *int     `json:"pr"`
	Files   []string `json:"files"`
	Reverts []string `json:"reverts"`
}

// loadHistory reads a fixture as the commits of one range, oldest first:
// the message is the subject, the pull request's title as the body of a
// merge (as GitHub writes it), and git's "This reverts commit" line for
// each commit the record says it reverts. withPR also sets the pull
// request number, as the GitHub agent will from the API.
func loadHistory(t testing.TB, name string, withPR bool) []Commit {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "commits", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []Commit
	sc := bufio.NewScanner(z)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r.commit(withPR))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func (r record) commit(withPR bool) Commit {
	c := Commit{SHA: r.SHA, Parents: r.Parents, Files: r.Files, Message: r.Subject}
	if c.Parents == nil && r.Parent != nil {
		c.Parents = []string{*r.Parent}
	}
	if r.Title != "" {
		c.Message += "\n\n" + r.Title
	}
	for _, sha := range r.Reverts {
		c.Message += "\n\nThis reverts commit " + sha + "."
	}
	if withPR && r.PR != nil {
		c.PR = *r.PR
	}
	return c
}

func histories(t testing.TB) []string {
	names, err := filepath.Glob(filepath.Join("testdata", "commits", "*.jsonl.gz"))
	if err != nil || len(names) != 5 {
		t.Fatalf("want the five histories in testdata/commits: %v %v", names, err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

// TestExactlyOnce: over five real histories (squash, merge-commit and
// linear repositories, with their real reverts), read as git gives them
// and as GitHub's API does, every non-merge commit is in exactly one
// entry or skipped, never both, and each merge commit in one place at
// most. The section sizes are logged: little should land in "other".
func TestExactlyOnce(t *testing.T) {
	for _, name := range histories(t) {
		for _, withPR := range []bool{false, true} {
			cs := loadHistory(t, name, withPR)
			cfg := DefaultConfig()
			cfg.Noise = []Noise{{Author: "dependabot[bot]"}}
			n, err := Build(Input{Commits: cs, Previous: "v1.0.0", Config: cfg})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]string{}
			place := func(sha, where string) {
				if prev, dup := seen[sha]; dup {
					t.Errorf("%s: %s is in %s and in %s", name, sha, prev, where)
				}
				seen[sha] = where
			}
			sizes := map[string]int{}
			for _, s := range n.Sections {
				sizes[s.Key] = len(s.Entries)
				for _, e := range s.Entries {
					if len(e.Commits) == 0 || !contains(e.Commits, e.SHA) {
						t.Errorf("%s: entry %s lists commits %v", name, e.SHA, e.Commits)
					}
					for _, sha := range e.Commits {
						place(sha, "entry "+e.SHA)
					}
				}
			}
			for _, s := range n.Skipped {
				place(s.SHA, "skipped ("+string(s.Reason)+")")
			}
			for _, c := range cs {
				if _, ok := seen[c.SHA]; !ok && len(c.Parents) <= 1 {
					t.Errorf("%s: %s (%q) is nowhere", name, c.SHA, Subject(c.Message))
				}
			}
			t.Logf("%s (PRs from the API: %v): %d commits, %d sections %v, %d skipped, bump %s", name, withPR, len(cs),
				len(n.Sections), sortedSizes(sizes), len(n.Skipped), n.Bump)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sortedSizes(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+itoa(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// BenchmarkBuild: the notes for the last 4,000 first-parent commits of
// prometheus/prometheus (2,094 merges, 20 reverts), as the GitHub agent
// would hand them over (no git reading).
//
//	go test -run '^$' -bench Build ./internal/release
func BenchmarkBuild(b *testing.B) {
	cs := loadHistory(b, "prometheus__prometheus-last-4000.jsonl.gz", true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(Input{Commits: cs, Previous: "v2.0.0", PreviousContributors: []string{}, Config: DefaultConfig()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(cs)), "commits")
}
