package testsel

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wantFail is what the real reports of the failing run say (see
// testdata/SOURCES): a table test with one failing case fails its parent.
var wantFail = []Result{
	{"example.com/flaky/calc", "TestAdd", Passed},
	{"example.com/flaky/calc", "TestFlaky", Failed},
	{"example.com/flaky/calc", "TestSkipped", Skipped},
	{"example.com/flaky/calc", "TestTable", Failed},
	{"example.com/flaky/calc", "TestTable/1+1", Passed},
	{"example.com/flaky/calc", "TestTable/2+2", Failed},
}

// TestReports: go test -json and JUnit from the same real runs say the
// same thing; the passing run flips exactly the flaky test.
func TestReports(t *testing.T) {
	for _, tt := range []struct {
		file  string
		parse func([]byte) ([]Result, error)
	}{
		{"gotest", func(b []byte) ([]Result, error) { return ParseGoTestJSON(bytes.NewReader(b)) }},
		{"junit", func(b []byte) ([]Result, error) { return ParseJUnit(bytes.NewReader(b)) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			ext := map[string]string{"gotest": ".json", "junit": ".xml"}[tt.file]
			for _, run := range []string{"fail", "pass"} {
				b, err := os.ReadFile("testdata/" + tt.file + "-" + run + ext)
				if err != nil {
					t.Fatal(err)
				}
				got, err := tt.parse(b)
				if err != nil {
					t.Fatal(err)
				}
				want := append([]Result(nil), wantFail...)
				if run == "pass" {
					want[1].Outcome = Passed
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s run (-want +got):\n%s", run, diff)
				}
			}
		})
	}
}

// TestAttack_Reports: what a workflow uploads is outside ferry's control:
// not a report, a document nested deep, a line past the limit, an entity
// bomb — each an error or nothing, never a hang or a crash.
func TestAttack_Reports(t *testing.T) {
	deep := strings.Repeat("<testsuite>", 40) + strings.Repeat("</testsuite>", 40)
	for name, doc := range map[string]string{
		"not xml":      "{not xml",
		"another root": "<html><body/></html>",
		"deep":         "<testsuites>" + deep + "</testsuites>",
		"entity":       `<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><testsuites><testsuite name="&b;"/></testsuites>`,
		"unterminated": "<testsuites><testsuite name='x'><testcase name='y'>",
	} {
		if _, err := ParseJUnit(strings.NewReader(doc)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	long := `{"Action":"pass","Package":"p","Test":"` + strings.Repeat("x", maxLine) + `"}`
	if _, err := ParseGoTestJSON(strings.NewReader(long)); err == nil {
		t.Error("a line past the limit was read")
	}
	if got, err := ParseGoTestJSON(strings.NewReader("# build output\nnot json\n{\"Action\":\"fail\",\"Package\":\"p\"}\n")); err != nil || len(got) != 0 {
		t.Errorf("noise: %v %v", got, err)
	}
}

func FuzzParseGoTestJSON(f *testing.F) {
	for _, name := range []string{"testdata/gotest-fail.json", "testdata/gotest-pass.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseGoTestJSON(bytes.NewReader(b))
		for _, r := range got {
			if err != nil || r.Test == "" || (r.Outcome != Passed && r.Outcome != Failed && r.Outcome != Skipped) {
				t.Fatalf("%+v %v", r, err)
			}
		}
	})
}

func FuzzParseJUnit(f *testing.F) {
	for _, name := range []string{"testdata/junit-fail.xml", "testdata/junit-pass.xml"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseJUnit(bytes.NewReader(b))
		if err != nil && len(got) > 0 {
			t.Fatalf("results with an error: %v", err)
		}
	})
}

// TestFlakes: a test that failed and passed on one commit (in one job) is
// a flake event; a test that failed on a commit and passed on the next is
// a fix, and one that fails in another job of the same commit is broken
// there — neither is a flake; skips are no runs; the window drops old runs.
func TestFlakes(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	res := func(test string, o Outcome) Result { return Result{Suite: "p", Test: test, Outcome: o} }
	runs := []Run{
		{SHA: "old", ID: "0", At: t0.Add(-48 * time.Hour), Results: []Result{res("Flaky", Failed), res("Flaky", Passed)}},
		{SHA: "a", ID: "1", At: t0, Results: []Result{res("Flaky", Failed), res("Fixed", Failed), res("Steady", Passed), res("Skip", Skipped)}},
		{SHA: "a", ID: "2", At: t0.Add(time.Minute), Results: []Result{res("Flaky", Passed), res("Fixed", Failed), res("Steady", Passed)}},
		{SHA: "b", ID: "3", At: t0.Add(time.Hour), Results: []Result{res("Flaky", Passed), res("Fixed", Passed), res("Steady", Passed)}},
	}
	// A matrix: the same commit, another job — broken on one platform, not flaky.
	runs = append(runs, Run{SHA: "a", Group: "ci/windows", ID: "4", At: t0.Add(2 * time.Minute), Results: []Result{res("Steady", Failed)}},
		Run{SHA: "b", Group: "ci/windows", ID: "5", At: t0.Add(2 * time.Hour), Results: []Result{res("Steady", Failed)}})
	got := Flakes(runs, t0.Add(-time.Hour))
	want := []Flakiness{
		{Test: "p.Flaky", Runs: 3, Failures: 1, Commits: 2, Events: []string{"a"}, Score: 0.5, Passing: 2},
		{Test: "p.Fixed", Runs: 3, Failures: 2, Commits: 2, Score: 0, Passing: 1},
		{Test: "p.Steady", Runs: 5, Failures: 2, Commits: 2, Score: 0, Passing: 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
}

// TestAttack_Quarantine: the quarantine file is repository content anyone
// may edit in a pull request: names that are patterns or shell, unknown
// keys, another version or too many entries make it unusable — nothing is
// quarantined — and a pattern only ever names tests literally.
func TestAttack_Quarantine(t *testing.T) {
	for name, doc := range map[string]string{
		"a pattern":   "version: 1\ntests:\n  - {test: 'example.com/m.Test.*'}\n",
		"shell":       "version: 1\ntests:\n  - {test: 'example.com/m.TestA; rm -rf /'}\n",
		"no package":  "version: 1\ntests:\n  - {test: TestA}\n",
		"unknown key": "version: 1\ntests:\n  - {test: example.com/m.TestA, run: always}\n",
		"version":     "version: 2\ntests: []\n",
		"not yaml":    "version: [\n",
		"too many":    "version: 1\ntests:\n" + strings.Repeat("  - {test: example.com/m.TestA}\n", maxQuarantined+1),
	} {
		if q, err := ParseQuarantine([]byte(doc)); err == nil {
			t.Errorf("%s: accepted %v", name, q)
		}
	}
	q, err := ParseQuarantine([]byte("version: 1\ntests:\n  - {test: example.com/m/b.TestB/case_1.5}\n  - {test: example.com/m/a.TestA}\n  - {test: example.com/other.TestA}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := SkipPattern(q, []string{"example.com/m/a", "example.com/m/b"}); got != "^(TestA|TestB)$" {
		t.Fatalf("pattern %q", got)
	}
	if got := SkipPattern(q, []string{"example.com/m/c"}); got != "" {
		t.Fatalf("pattern for no quarantined package %q", got)
	}
}
