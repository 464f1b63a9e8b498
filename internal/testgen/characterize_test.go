package testgen

import (
	"context"
	"errors"
	"fmt"
	"go/constant"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// genModule is the module the generators' tests work on.
const genModule = "testdata/gen"

// genEnv keeps the go command to the test data module: no workspace, the
// local toolchain, go.mod as it is. The build cache stays shared.
var genEnv = []string{"GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local"}

// genTargets are targets of package calc of the test data module.
func genTargets(funcs ...string) []Target {
	var out []Target
	for _, f := range funcs {
		out = append(out, Target{Dir: "calc", ImportPath: "example.com/gen/calc", Package: "calc", Func: f, File: "calc/calc.go"})
	}
	return out
}

// copyModule copies the test data module where a test may write.
func copyModule(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(genModule)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeCandidates writes candidates into the module at dir.
func writeCandidates(t *testing.T, dir string, cands []Candidate) {
	t.Helper()
	for _, c := range cands {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(c.File)), []byte(c.Source), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goTest runs go test in dir.
func goTest(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", append([]string{"test", "-count=1"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), genEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func names(cands []Candidate) []string {
	var out []string
	for _, c := range cands {
		out = append(out, c.Name+" "+c.File+" "+c.Origin+" "+c.Target)
	}
	return out
}

func TestCharacterizeEligible(t *testing.T) {
	tests := []struct {
		fn   string
		want string // "characterize", "fuzz", "both" or ""
	}{
		{"Clamp", "characterize"},
		{"Grade", "characterize"},
		{"Fits", "characterize"},
		{"Freezing", "characterize"}, // a named type of the package, basic underneath
		{"Half", "characterize"},
		{"Nonce", "characterize"}, // eligible; its rows are dropped as unstable
		{"Reverse", "both"},
		{"At", "both"},
		{"ParseLevel", "both"},
		{"Count", "both"},
		{"Upper", "both"},
		{"Log", "fuzz"}, // no result to pin
		{"Counter.Add", ""},
		{"Norm1", ""}, // a struct
		{"Max", ""},   // generic
		{"Sum", ""},   // variadic
		{"Since", ""}, // an imported type
		{"abs", ""},   // not exported
		{"Missing", ""},
	}
	pkgs := packages{}
	for _, tt := range tests {
		fn, err := pkgs.basicFunc(genModule, genTargets(tt.fn)[0])
		if err != nil {
			t.Fatalf("%s: %v", tt.fn, err)
		}
		got := map[[2]bool]string{{true, false}: "characterize", {false, true}: "fuzz", {true, true}: "both"}[[2]bool{fn.characterizable(), fn.fuzzable()}]
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.fn, got, tt.want)
		}
	}
}

// TestCharacterizeInputs: the rows try the constants the function compares
// against and their neighbours, and the literals of the tests that call it.
func TestCharacterizeInputs(t *testing.T) {
	tests := []struct {
		fn    string
		param int
		want  []string
	}{
		{"Grade", 0, []string{"89", "90", "91", "79", "80", "81", "69", "70", "71", "0", "-1", "math.NaN()"}},
		{"Fits", 0, []string{"9", "10", "11", "math.MinInt", "math.MaxInt"}}, // Limit, a constant of the package
		{"Clamp", 0, []string{"0", "1", "-1", "5", "10"}},                    // 5 and 10 from TestClamp
		{"ParseLevel", 0, []string{`"debug"`, `"info"`, `"warn"`, `""`}},
		{"Reverse", 0, []string{`"hello"`, `"Hello, 世界"`}},
		{"Count", 1, []string{"0", "1", "255"}},
	}
	pkgs := packages{}
	for _, tt := range tests {
		fn, err := pkgs.basicFunc(genModule, genTargets(tt.fn)[0])
		if err != nil || fn == nil {
			t.Fatalf("%s: %v %v", tt.fn, fn, err)
		}
		rows := fn.rows(24, 8)
		if len(rows) > 24 {
			t.Errorf("%s: %d rows, want at most 24", tt.fn, len(rows))
		}
		var missing []string
		for _, w := range tt.want {
			if !slices.ContainsFunc(rows, func(r []string) bool { return r[tt.param] == w }) {
				missing = append(missing, w)
			}
		}
		if diff := cmp.Diff([]string(nil), missing); diff != "" {
			t.Errorf("%s: inputs missing (-want +got):\n%s", tt.fn, diff)
		}
	}
}

func TestCharacterizeRender(t *testing.T) {
	tests := []struct {
		name string
		v    basicVar
		c    constant.Value
		want string
	}{
		{"int8 max", basicVar{kind: kindInt, bits: 8}, constant.MakeInt64(127), "127"},
		{"int8 overflow", basicVar{kind: kindInt, bits: 8}, constant.MakeInt64(128), ""},
		{"uint negative", basicVar{kind: kindUint}, constant.MakeInt64(-1), ""},
		{"int from a whole float", basicVar{kind: kindInt}, constant.MakeFloat64(2), "2"},
		{"int from a fraction", basicVar{kind: kindInt}, constant.MakeFloat64(2.5), ""},
		{"float32 overflow", basicVar{kind: kindFloat, bits: 32}, constant.MakeFloat64(1e39), ""},
		{"float", basicVar{kind: kindFloat, bits: 64}, constant.MakeFloat64(0.1), "0.1"},
		{"string", basicVar{kind: kindString}, constant.MakeString("a\"b"), `"a\"b"`},
		{"string too long", basicVar{kind: kindString}, constant.MakeString(strings.Repeat("x", 41)), ""},
		{"bytes", basicVar{kind: kindBytes}, constant.MakeString("a"), `[]byte("a")`},
		{"bool", basicVar{kind: kindBool}, constant.MakeBool(true), "true"},
		{"string for an int", basicVar{kind: kindInt}, constant.MakeString("1"), ""},
		{"int for a string", basicVar{kind: kindString}, constant.MakeInt64(1), ""},
	}
	for _, tt := range tests {
		if got := tt.v.render(tt.c); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := offset(constant.MakeString("x"), 1); got != nil {
		t.Errorf("offset of a string by 1 = %v, want nil", got)
	}
	if got := offset(constant.MakeInt64(10), -1); constant.Compare(got, token.NEQ, constant.MakeInt64(9)) {
		t.Errorf("offset(10, -1) = %v, want 9", got)
	}
}

func TestCharacterizeCombine(t *testing.T) {
	tests := []struct {
		name  string
		sizes []int
		max   int
		want  int
	}{
		{"no parameters: one call", nil, 24, 1},
		{"all combinations fit", []int{3, 4}, 24, 12},
		{"capped", []int{8, 8, 8}, 24, 24},
		{"one parameter", []int{30}, 24, 24},
	}
	for _, tt := range tests {
		rows := combine(tt.sizes, tt.max, "F")
		if len(rows) != tt.want {
			t.Errorf("%s: %d rows, want %d", tt.name, len(rows), tt.want)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			for p, i := range r {
				if i < 0 || i >= tt.sizes[p] {
					t.Errorf("%s: row %v out of range", tt.name, r)
				}
			}
			if k := fmt.Sprint(r); seen[k] {
				t.Errorf("%s: row %v twice", tt.name, r)
			} else {
				seen[k] = true
			}
		}
		if diff := cmp.Diff(rows, combine(tt.sizes, tt.max, "F")); diff != "" {
			t.Errorf("%s: a second call differs:\n%s", tt.name, diff)
		}
	}
	// Capped, each value of each parameter is still tried once.
	rows := combine([]int{8, 8, 8}, 24, "F")
	for p := range 3 {
		for v := range 8 {
			if !slices.ContainsFunc(rows, func(r []int) bool { return r[p] == v }) {
				t.Errorf("parameter %d never takes value %d", p, v)
			}
		}
	}
}

// TestCharacterizeGenerate: on the test data module, the generated tests
// compile and pass, pin the boundaries around the code's constants and
// panics, and fail when the behaviour changes. Recording writes nothing
// into the module.
func TestCharacterizeGenerate(t *testing.T) {
	t.Parallel() // it runs go test
	dir := copyModule(t)
	before := listFiles(t, dir)
	targets := genTargets("Clamp", "Grade", "At", "ParseLevel", "Fits", "Freezing", "Half", "Upper", "Nonce", "Counter.Add", "Norm1", "Log")
	cands, err := Characterize{Env: genEnv}.Generate(t.Context(), dir, targets)
	var skipped *SkippedError
	if !errors.As(err, &skipped) || len(skipped.Skips) != 1 || skipped.Skips[0].Target != "Nonce" {
		t.Fatalf("Generate: %v, want Nonce skipped (it never answers the same twice)", err)
	}
	if diff := cmp.Diff(before, listFiles(t, dir)); diff != "" {
		t.Errorf("recording changed the module (-before +after):\n%s", diff)
	}
	want := []string{
		"TestCharacterizeClamp calc/ferry_characterize_clamp_test.go characterization Clamp",
		"TestCharacterizeGrade calc/ferry_characterize_grade_test.go characterization Grade",
		"TestCharacterizeAt calc/ferry_characterize_at_test.go characterization At",
		"TestCharacterizeParseLevel calc/ferry_characterize_parselevel_test.go characterization ParseLevel",
		"TestCharacterizeFits calc/ferry_characterize_fits_test.go characterization Fits",
		"TestCharacterizeFreezing calc/ferry_characterize_freezing_test.go characterization Freezing",
		"TestCharacterizeHalf calc/ferry_characterize_half_test.go characterization Half",
		"TestCharacterizeUpper calc/ferry_characterize_upper_test.go characterization Upper",
	}
	if diff := cmp.Diff(want, names(cands)); diff != "" {
		t.Fatalf("candidates (-want +got):\n%s", diff)
	}
	rows := map[string][]string{
		"Grade":      {`{score: 89, want: "B"}`, `{score: 90, want: "A"}`, `{score: 91, want: "A"}`, `{score: 70, want: "C"}`, `{score: math.NaN(), want: "F"}`},
		"Fits":       {"{n: 10, want: true}", "{n: 11, want: false}"},
		"At":         {`{s: "a", i: 0, want: 97}`, `{s: "", i: 0, wantPanic: true}`},
		"ParseLevel": {`{s: "info", want: 1, wantErr: ""}`, `{s: "", want: -1, wantErr: "unknown level "}`},
		"Half":       {"{x: 1, want: 0.5}", "{x: float32(math.NaN()), want: float32(math.NaN())}"},
		"Freezing":   {"{c: 0, want: true}", "{c: Celsius(math.Inf(-1)), want: true}"},
		"Upper":      {`{b: []byte("a"), want: []byte("A")}`, `{b: nil, want: []byte("")}`},
		"Clamp":      {"{v: 5, lo: 0, hi: 0, want: 0}"},
	}
	for _, c := range cands {
		if !strings.HasPrefix(c.Source, "// Characterization tests generated by ferry testgen: they pin the current\n// behaviour of "+c.Target) {
			t.Errorf("%s: header missing:\n%s", c.Name, c.Source)
		}
		for _, r := range rows[c.Target] {
			if !strings.Contains(c.Source, r) {
				t.Errorf("%s: no row %s in\n%s", c.Name, r, c.Source)
			}
		}
	}
	writeCandidates(t, dir, cands)
	if out, err := goTest(t, dir, "-run=^TestCharacterize", "./..."); err != nil {
		t.Fatalf("the generated tests fail on the code they were recorded from: %v\n%s", err, out)
	}
	calc := filepath.Join(dir, "calc", "calc.go")
	src, err := os.ReadFile(calc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(calc, []byte(strings.Replace(string(src), "score >= 90", "score > 90", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := goTest(t, dir, "-run=^TestCharacterize", "./...")
	if err == nil || !strings.Contains(out, `Grade(90) = "B", want "A"`) {
		t.Errorf("a changed boundary went unnoticed: %v\n%s", err, out)
	}
}

func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		out = append(out, strings.TrimPrefix(p, dir))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCharacterizeBrokenPackage: a package whose tests do not compile
// skips its targets with go test's words, and stops nothing else.
func TestCharacterizeBrokenPackage(t *testing.T) {
	t.Parallel() // it runs go test
	dir := copyModule(t)
	if err := os.WriteFile(filepath.Join(dir, "calc", "broken_test.go"), []byte("package calc\n\nfunc broken() { undefined() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cands, err := Characterize{Env: genEnv}.Generate(t.Context(), dir, genTargets("Fits"))
	var skipped *SkippedError
	if len(cands) != 0 || !errors.As(err, &skipped) || !strings.Contains(err.Error(), "undefined") {
		t.Errorf("Generate = %d candidates, %v; want none and the compile error", len(cands), err)
	}
	if _, err := (Characterize{Env: genEnv}).Generate(cancelled(t), dir, genTargets("Fits")); !errors.Is(err, context.Canceled) {
		t.Errorf("Generate with a cancelled context: %v, want context.Canceled", err)
	}
}

func cancelled(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
