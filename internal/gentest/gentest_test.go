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
	green := Check{Name: "test", Status: "completed", Conclusion: "success", Output: "ok  \texample.com/m/calc\t0.01s"}
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
			Step{Kind: Retry, Removed: map[string]string{"calc/testb_test.go": "failed in check run test"}}},
		{"a candidate fails in a report", record(2, "TestA", "TestB"), []Check{failing("exit status 1")},
			[]testsel.Result{{Suite: "m/calc", Test: "TestA/zero", Outcome: testsel.Failed}, {Suite: "m/calc", Test: "TestB", Outcome: testsel.Passed}},
			Step{Kind: Retry, Removed: map[string]string{"calc/testa_test.go": "failed in CI's test report"}}},
		{"a build error names the file", record(1, "TestA", "TestB"), []Check{failing("calc/testa_test.go:7:2: undefined: x")}, nil,
			Step{Kind: Retry, Removed: map[string]string{"calc/testa_test.go": "its file is named in the output of check run test (a build error?)"}}},
		{"the repository's own test fails", record(1, "TestA"), []Check{failing("--- FAIL: TestOld")},
			[]testsel.Result{{Suite: "m/calc", Test: "TestOld", Outcome: testsel.Failed}},
			Step{Kind: GiveUp, Why: "CI failed in a way ferry cannot blame on one of its tests: test TestOld failed; test TestOld failed in check run test"}},
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
	r := record(1, "TestA", "TestB").Without(map[string]string{"calc/testb_test.go": "failed"})
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

// TestDecideNeedsEvidence: nothing failing is not green. A CLA bot's
// success, a skipped or neutral test job, or a success that shows no
// candidate ran waits for the next suite; a report or output showing the
// candidates passed, or every required check passing, opens.
func TestDecideNeedsEvidence(t *testing.T) {
	r := record(1, "TestA")
	done := func(name, conclusion, out string) Check {
		return Check{Name: name, Status: "completed", Conclusion: conclusion, Output: out}
	}
	wait := Step{Kind: Wait, Why: NoEvidence}
	for _, tc := range []struct {
		name    string
		checks  []Check
		results []testsel.Result
		want    Step
	}{
		{"a CLA bot", []Check{done("cla", "success", "CLA signed")}, nil, wait},
		{"skipped", []Check{done("test", "skipped", "")}, nil, Step{Kind: Wait, Why: NoEvidence}},
		{"neutral with output", []Check{done("test", "neutral", "ok  \texample.com/m/calc\t0.1s")}, nil, wait},
		{"another package ran", []Check{done("test", "success", "ok  \texample.com/m/other\t0.1s")}, nil, wait},
		{"its package ran", []Check{done("test", "success", "ok  \texample.com/m/calc\t0.1s")}, nil, Step{Kind: Open}},
		{"it passed", []Check{done("test", "success", "--- PASS: TestA (0.00s)")}, nil, Step{Kind: Open}},
		{"a report", []Check{done("test", "success", "")}, []testsel.Result{{Suite: "example.com/m/calc", Test: "TestA", Outcome: testsel.Passed}},
			Step{Kind: Open}},
		{"a skipped report", []Check{done("test", "success", "")}, []testsel.Result{{Suite: "example.com/m/calc", Test: "TestA", Outcome: testsel.Skipped}},
			wait},
		{"required checks", []Check{{Name: "ci", Status: "completed", Conclusion: "success", Required: true}}, nil, Step{Kind: Open}},
		{"a required check skipped", []Check{{Name: "ci", Status: "completed", Conclusion: "skipped", Required: true}, done("cla", "success", "")},
			nil, wait},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, Decide(r, tc.checks, tc.results)); d != "" {
				t.Fatal(d)
			}
		})
	}
}

// TestBlameByPackage: two changed packages each with Parse: fuzz targets
// FuzzParse in a/ and b/. Only b's fails (the report, and the output's
// `FAIL\t<pkg>` line, say which package): only b's is removed.
func TestBlameByPackage(t *testing.T) {
	r := Record{Round: 1, Candidates: []Candidate{
		{Name: "FuzzParse", File: "a/ferry_fuzz_parse_test.go", Source: "x", Kept: true},
		{Name: "FuzzParse", File: "b/ferry_fuzz_parse_test.go", Source: "x", Kept: true},
		{Name: "FuzzTrim", File: "a/ferry_fuzz_trim_test.go", Source: "x", Kept: true},
	}}
	out := "--- FAIL: FuzzParse (0.00s)\n    ferry_fuzz_parse_test.go:9: boom\nFAIL\texample.com/m/b\n"
	checks := []Check{{Name: "test", Status: "completed", Conclusion: "failure", Output: out}}
	res := []testsel.Result{{Suite: "example.com/m/b", Test: "FuzzParse", Outcome: testsel.Failed}}
	for name, results := range map[string][]testsel.Result{"report": res, "output": nil} {
		step := Decide(r, checks, results)
		if d := cmp.Diff(Step{Kind: Retry, Removed: map[string]string{"b/ferry_fuzz_parse_test.go": step.Removed["b/ferry_fuzz_parse_test.go"]}}, step); d != "" ||
			len(r.Without(step.Removed).Kept()) != 2 {
			t.Errorf("%s: %s", name, d)
		}
	}
}

// TestBlameUnexplainedNotMasked: a failure naming no candidate (the pull
// request broke another test) is unexplained even when another check, or
// the same one, blames a candidate: ferry gives up saying so rather than
// retrying as if its test were the problem.
func TestBlameUnexplainedNotMasked(t *testing.T) {
	r := Record{Round: 1, Candidates: []Candidate{
		{Name: "TestA", File: "a/ferry_gen_a_1_test.go", Source: "x", Kept: true},
		{Name: "TestB", File: "a/ferry_gen_b_1_test.go", Source: "x", Kept: true},
	}}
	for name, checks := range map[string][]Check{
		"two runs": {{Name: "test", Status: "completed", Conclusion: "failure", Output: "--- FAIL: TestA (0.00s)"},
			{Name: "integration", Status: "completed", Conclusion: "failure", Output: "--- FAIL: TestExisting (0.00s)\nFAIL"}},
		"one run": {{Name: "test", Status: "completed", Conclusion: "failure", Output: "--- FAIL: TestA (0.00s)\n--- FAIL: TestExisting (0.00s)"}},
		"lint": {{Name: "test", Status: "completed", Conclusion: "failure", Output: "--- FAIL: TestA (0.00s)"},
			{Name: "lint", Status: "completed", Conclusion: "failure", Output: "a.go:3: unused"}},
	} {
		if step := Decide(r, checks, nil); step.Kind != GiveUp || !strings.Contains(step.Why, "cannot blame") {
			t.Errorf("%s: %+v", name, step)
		}
	}
}
