package dockerfile

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestCorpus_RewritesProven: on real Dockerfiles from public projects
// (testdata/corpus, see its SOURCES.md), every automatic rewrite passes all
// four checks against the original, and the counts per rule are logged
// for the closing note.
func TestCorpus_RewritesProven(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.Dockerfile")
	if err != nil || len(files) < 100 {
		t.Fatalf("corpus: %d files, %v", len(files), err)
	}
	found, applied, dropped := map[string]int{}, map[string]int{}, map[string]int{}
	unparsed, rewritten := 0, 0
	for _, name := range files {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Parse(src)
		if err != nil {
			unparsed++
			t.Logf("%s: %v", filepath.Base(name), err)
			continue
		}
		for _, fd := range Analyze(f, Options{}) {
			found[fd.Rule]++
		}
		rw, err := Fix(context.Background(), f, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, fd := range rw.Applied {
			applied[fd.Rule]++
		}
		for _, d := range rw.Dropped {
			dropped[d.Rule]++
			t.Logf("%s:%d %s dropped: %s", filepath.Base(name), d.Line, d.Rule, d.Why)
		}
		if !rw.Changed() {
			continue
		}
		rewritten++
		if !rw.Checks.OK() {
			t.Errorf("%s: rewrite fails its checks: %+v", filepath.Base(name), rw.Checks)
		}
	}
	var rows []string
	for _, r := range Rules {
		rows = append(rows, fmt.Sprintf("%-26s found %4d  rewritten %4d  dropped %3d", r.ID, found[r.ID], applied[r.ID], dropped[r.ID]))
	}
	sort.Strings(rows)
	t.Logf("%d files, %d not Dockerfiles BuildKit parses, %d rewritten\n%s", len(files), unparsed, rewritten, strings.Join(rows, "\n"))
}
