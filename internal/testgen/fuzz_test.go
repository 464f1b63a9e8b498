package testgen

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFuzzGenerate: the targets compile and run their seeds; the one for a
// function that panics on some of them fails, as the filter will see.
func TestFuzzGenerate(t *testing.T) {
	t.Parallel() // it runs go test
	dir := copyModule(t)
	targets := genTargets("Clamp", "Grade", "Reverse", "At", "ParseLevel", "Count", "Upper", "Log", "Counter.Add", "Norm1")
	cands, err := Fuzz{}.Generate(t.Context(), dir, targets)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"FuzzReverse calc/ferry_fuzz_reverse_test.go fuzz Reverse",
		"FuzzAt calc/ferry_fuzz_at_test.go fuzz At",
		"FuzzParseLevel calc/ferry_fuzz_parselevel_test.go fuzz ParseLevel",
		"FuzzCount calc/ferry_fuzz_count_test.go fuzz Count",
		"FuzzUpper calc/ferry_fuzz_upper_test.go fuzz Upper",
		"FuzzLog calc/ferry_fuzz_log_test.go fuzz Log",
	}
	if diff := cmp.Diff(want, names(cands)); diff != "" {
		t.Fatalf("candidates (-want +got):\n%s", diff)
	}
	seeds := map[string][]string{
		"Reverse":    {`f.Add("hello")`, `f.Add("")`},
		"ParseLevel": {`f.Add("debug")`, `if errText(err) != errText(againErr) {`},
		"Count":      {`f.Add([]byte(nil), byte(0))`, `f.Add([]byte("a"), byte(0))`, "Count(bytes.Clone(b), sep)"},
		"At":         {`f.Add("a", 0)`},
		"Log":        {"checks only that Log does not panic.\n"},
	}
	for _, c := range cands {
		for _, s := range seeds[c.Target] {
			if !strings.Contains(c.Source, s) {
				t.Errorf("%s: no %s in\n%s", c.Name, s, c.Source)
			}
		}
	}
	writeCandidates(t, dir, cands)
	out, err := goTest(t, dir, "-run=^Fuzz(Reverse|ParseLevel|Count|Upper|Log)$", "-v", "./...")
	for _, name := range []string{"FuzzReverse", "FuzzParseLevel", "FuzzCount", "FuzzUpper", "FuzzLog"} {
		if err != nil || !strings.Contains(out, "--- PASS: "+name) {
			t.Errorf("%s did not pass its seeds: %v\n%s", name, err, out)
		}
	}
	// A panic ends the test binary: the failing target runs alone.
	out, err = goTest(t, dir, "-run=^FuzzAt$", "./...")
	if err == nil || !strings.Contains(out, "--- FAIL: FuzzAt") {
		t.Errorf("FuzzAt passed seeds that panic: %v\n%s", err, out)
	}
}

// TestFuzzNoModel: NoModel is characterization then fuzz, with what both
// skipped merged.
func TestFuzzNoModel(t *testing.T) {
	targets := append(genTargets("Log"), Target{Dir: "nowhere", ImportPath: "example.com/gen/nowhere", Package: "nowhere", Func: "F", File: "nowhere/f.go"})
	cands, err := NoModel{Characterize: Characterize{Env: genEnv}}.Generate(t.Context(), genModule, targets)
	if diff := cmp.Diff([]string{"FuzzLog calc/ferry_fuzz_log_test.go fuzz Log"}, names(cands)); diff != "" {
		t.Errorf("candidates (-want +got):\n%s", diff)
	}
	var skipped *SkippedError
	if !errors.As(err, &skipped) {
		t.Fatalf("Generate: %v, want a *SkippedError", err)
	}
	var got []string
	for _, s := range skipped.Skips {
		got = append(got, s.Target+": "+s.Reason)
	}
	want := []string{"F: characterization: reading the package", "F: fuzz: reading the package"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
	if _, err := (NoModel{}).Generate(cancelled(t), genModule, genTargets("Log")); err == nil || errors.As(err, &skipped) {
		t.Errorf("Generate with a cancelled context: %v, want the context's error", err)
	}
}
