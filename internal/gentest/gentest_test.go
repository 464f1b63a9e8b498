package gentest

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/testsel"
)

func record(round int, names ...string) Record {
	r := Record{Round: round, State: WaitingCI, Tip: "t1"}
	for _, n := range names {
		r.Candidates = append(r.Candidates, Candidate{Name: n, File: "calc/" + strings.ToLower(n) + "_test.go", Kept: true})
	}
	return r
}

func TestDecide(t *testing.T) {
	green := Check{Name: "test", Status: "completed", Conclusion: "success"}
	failing := func(out string) Check {
		return Check{Name: "test", Status: "completed", Conclusion: "failure", Output: out}
	}
	for _, tc := range []struct {
		name    string
		r       Record
		checks  []Check
		results []testsel.Result
		want    Step
	}{
		{"no checks yet", record(1, "TestA"), nil, nil, Step{Kind: Wait}},
		{"one still running", record(1, "TestA"), []Check{green, {Name: "lint", Status: "in_progress"}}, nil, Step{Kind: Wait}},
		{"green", record(1, "TestA"), []Check{green, {Name: "x", Status: "completed", Conclusion: "skipped"}}, nil, Step{Kind: Open}},
		{"a candidate fails in the output", record(1, "TestA", "TestB"), []Check{failing("--- FAIL: TestB (0.00s)\n    --- FAIL: TestB/neg")}, nil,
			Step{Kind: Retry, Removed: map[string]string{"TestB": "failed in check run test"}}},
		{"a candidate fails in a report", record(2, "TestA", "TestB"), []Check{failing("exit status 1")},
			[]testsel.Result{{Suite: "m/calc", Test: "TestA/zero", Outcome: testsel.Failed}, {Suite: "m/calc", Test: "TestB", Outcome: testsel.Passed}},
			Step{Kind: Retry, Removed: map[string]string{"TestA": "failed in CI's test report"}}},
		{"a build error names the file", record(1, "TestA", "TestB"), []Check{failing("calc/testa_test.go:7:2: undefined: x")}, nil,
			Step{Kind: Retry, Removed: map[string]string{"TestA": "its file is named in the output of check run test (a build error?)"}}},
		{"the repository's own test fails", record(1, "TestA"), []Check{failing("--- FAIL: TestOld")},
			[]testsel.Result{{Suite: "m/calc", Test: "TestOld", Outcome: testsel.Failed}},
			Step{Kind: GiveUp, Why: "CI failed in a way ferry cannot blame on one of its tests: check run test failed without naming a proposed test; test TestOld failed"}},
		{"every candidate fails", record(1, "TestA"), []Check{failing("--- FAIL: TestA")}, nil, Step{Kind: GiveUp, Why: "every proposed test failed in CI"}},
		{"the last round", record(MaxRounds, "TestA", "TestB"), []Check{failing("--- FAIL: TestA")}, nil,
			Step{Kind: GiveUp, Why: "tests still failed after 3 rounds"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Decide(tc.r, tc.checks, tc.results)); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestWithout(t *testing.T) {
	r := record(1, "TestA", "TestB").Without(map[string]string{"TestB": "failed"})
	if r.Round != 2 || r.State != Pushing || len(r.Kept()) != 1 || r.Candidates[1].Reason != "failed" || r.Candidates[1].Round != 1 {
		t.Fatalf("%+v", r)
	}
	if files := r.Files(); len(files) != 1 || files["calc/testa_test.go"] != "" {
		t.Fatalf("files %v", files)
	}
}

func TestVet(t *testing.T) {
	src := "package calc\n\nfunc TestClamp(t *testing.T) {}\n"
	exists := func(p string) bool { return p == "calc/calc_test.go" }
	for _, tc := range []struct {
		c    Candidate
		want string // "" ok, else part of the error
	}{
		{Candidate{Name: "TestClamp", File: "calc/clamp_gen_test.go", Source: src}, ""},
		{Candidate{Name: "TestClamp", File: "calc/../main_test.go", Source: src}, "not a clean relative path"},
		{Candidate{Name: "TestClamp", File: "../calc/x_test.go", Source: src}, "outside the package"},
		{Candidate{Name: "TestClamp", File: "/etc/x_test.go", Source: src}, "not a clean relative path"},
		{Candidate{Name: "TestClamp", File: "calc/sub/x_test.go", Source: src}, "outside the package"},
		{Candidate{Name: "TestClamp", File: "calc/clamp.go", Source: src}, "not a _test.go file"},
		{Candidate{Name: "TestClamp", File: ".github/workflows/x_test.go", Source: src}, "outside the package"},
		{Candidate{Name: "TestClamp", File: "calc/calc_test.go", Source: src}, "exists already"},
		{Candidate{Name: "TestClamp`<b>", File: "calc/x_test.go", Source: src}, "not a Go test"},
		{Candidate{Name: "TestClamp", File: "calc/x_test.go", Source: strings.Repeat("x", MaxSourceBytes+1)}, "bytes"},
		{Candidate{Name: "TestOther", File: "calc/x_test.go", Source: src}, "does not define"},
	} {
		err := Vet(tc.c, "calc", exists)
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.c.File, err, tc.want)
		}
	}
}

func TestCoverage(t *testing.T) {
	got := Coverage([]Check{{Output: "ok  \texample.com/m/calc\t0.01s\tcoverage: 81.2% of statements\nPASS"}, {Output: "nothing"}})
	if d := cmp.Diff([]string{"example.com/m/calc: 81.2%"}, got); d != "" {
		t.Fatal(d)
	}
}
