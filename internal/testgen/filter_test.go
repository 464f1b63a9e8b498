package testgen

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fixed is a generator that proposes the same candidates whatever it is
// asked, and remembers what it was asked.
type fixed struct {
	cands   []Candidate
	targets []Target
}

func (g *fixed) Generate(_ context.Context, _ string, targets []Target) ([]Candidate, error) {
	g.targets = targets
	return g.cands, nil
}

// testEnv keeps the go command of a filter to the test data module: no
// workspace, no flags from the environment, the local toolchain.
var testEnv = []string{"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local"}

// candidate is a test file of package clamp for Wrap.
func candidate(name, body string) Candidate {
	file := strings.ToLower(strings.TrimPrefix(name, "Test")) + "_gen_test.go"
	src := "package clamp\n\nimport \"testing\"\n\nfunc " + name + "(t *testing.T) {\n" + body + "\n}\n"
	return Candidate{Name: name, File: file, Source: src, Origin: "test", Target: "Wrap"}
}

// wrapCandidates are one candidate for each way to fail, and one that
// earns its place.
func wrapCandidates(t *testing.T) []Candidate {
	counter := filepath.Join(t.TempDir(), "runs")
	table := `	for _, tt := range []struct{ v, n, want int }{{7, 5, 2}, {-1, 5, 4}, {5, 5, 0}, {3, 0, 0}} {
		if got := Wrap(tt.v, tt.n); got != tt.want {
			t.Errorf("Wrap(%d, %d) = %d, want %d", tt.v, tt.n, got, tt.want)
		}
	}`
	flaky := candidate("TestWrapFlaky", fmt.Sprintf(`	// Fails on the second run of three: a counter in a file.
	data, _ := os.ReadFile(%q)
	n := len(data) + 1
	_ = os.WriteFile(%q, append(data, 'x'), 0o644)
	if n == 2 || Wrap(7, 5) != 2 {
		t.Fatalf("run %%d", n)
	}`, counter, counter))
	flaky.Source = strings.Replace(flaky.Source, `import "testing"`, "import (\n\t\"os\"\n\t\"testing\"\n)", 1)
	return []Candidate{
		candidate("TestWrapTable", table),
		candidate("TestWrapTypo", "\tif Wrapp(1, 2) != 1 {\n\t\tt.Fatal(1)\n\t}"),
		candidate("TestWrapWrong", "\tif got := Wrap(-1, 5); got != -1 {\n\t\tt.Errorf(\"Wrap(-1, 5) = %d\", got)\n\t}"),
		candidate("TestClampAgain", "\tif Clamp(5, 0, 10) != 5 {\n\t\tt.Fatal(5)\n\t}"),
		flaky,
		candidate("TestWrapSmoke", "\tfor _, n := range []int{5} {\n\t\tfor v := -6; v < 7; v++ {\n\t\t\t_ = Wrap(v, n)\n\t\t}\n\t}"),
	}
}

// TestFilter: on a real change, exactly the candidate that checks the new
// code is kept; each other is dropped at the stage it fails, and the kept
// one raises the changed lines' coverage.
func TestFilter(t *testing.T) {
	start := time.Now()
	r, base, head := clampRepo(t)
	gen := &fixed{cands: wrapCandidates(t)}
	var progress bytes.Buffer
	rep, err := Generate(context.Background(), Options{Repo: r.Dir, Base: base, Head: head, Generator: gen, Progress: &progress,
		Filter: FilterConfig{Env: testEnv}, Timeout: 5 * time.Minute})
	t.Logf("%s\nin %s", progress.String(), time.Since(start))
	if err != nil {
		t.Fatal(err)
	}
	if len(gen.targets) != 2 {
		t.Errorf("generator asked for %d targets, want Clamp and Wrap", len(gen.targets))
	}
	var kept []string
	for _, k := range rep.Kept {
		kept = append(kept, k.Test)
	}
	dropped := map[string]string{}
	for _, d := range rep.Dropped {
		dropped[d.Test] = d.Stage
		t.Logf("dropped %s at %s: %s", d.Test, d.Stage, d.Reason)
	}
	if d := cmp.Diff([]string{"TestWrapTable"}, kept); d != "" {
		t.Errorf("kept (-want +got):\n%s", d)
	}
	want := map[string]string{"TestWrapTypo": StageCompile, "TestWrapWrong": StagePass, "TestClampAgain": StageCoverage,
		"TestWrapFlaky": StageFlaky, "TestWrapSmoke": StageMutants}
	if d := cmp.Diff(want, dropped); d != "" {
		t.Errorf("dropped at (-want +got):\n%s", d)
	}
	wantStages := map[string]int{StageCompile: 1, StagePass: 1, StageFlaky: 1, StageCoverage: 1, StageMutants: 1, StageSkipped: 0}
	if d := cmp.Diff(wantStages, rep.Stages); d != "" {
		t.Errorf("stages (-want +got):\n%s", d)
	}
	if rep.Candidates != 6 || rep.ChangedLines != 12 || rep.CoveredBefore != 1 || rep.CoveredAfter != 10 || !(rep.Before < rep.After) {
		t.Errorf("candidates %d, changed lines %d, covered %d → %d (%.2f → %.2f)", rep.Candidates, rep.ChangedLines,
			rep.CoveredBefore, rep.CoveredAfter, rep.Before, rep.After)
	}
	if len(rep.Kept) == 1 {
		k := rep.Kept[0]
		t.Logf("kept %s: lines %v, killed %d of %d: %v", k.Test, k.CoveredLines, k.MutantsKilled, k.MutantsTotal, k.Killed)
		if k.MutantsKilled == 0 || k.MutantsKilled > k.MutantsTotal || k.Source != gen.cands[0].Source || len(k.CoveredLines) != 9 {
			t.Errorf("kept: %+v", k)
		}
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("report:\n%s", text.String())
}
