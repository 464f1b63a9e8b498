package gentest

import (
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/ferry-ci/ferry/internal/testsel"
)

// Lines of go test's output: a failed or passed test (a subtest's parent
// is named with it), and a package's verdict.
var (
	testLine    = regexp.MustCompile(`--- (FAIL|PASS): ([A-Za-z0-9_]+)`)
	packageLine = regexp.MustCompile(`^(FAIL|ok)\s+(\S+)`)
)

// maxUnexplained bounds the failures a give-up lists.
const maxUnexplained = 5

// outcome is one test go test's output names, with its package when a
// package verdict line follows it ("" when none does).
type outcome struct {
	name, pkg string
	passed    bool
}

// outcomes reads go test's output: each `--- FAIL/PASS: Name` belongs to
// the package of the next `FAIL\t<pkg>` or `ok  \t<pkg>` line.
func outcomes(out string) (tests []outcome, okPackages []string) {
	pending := 0
	for _, line := range strings.Split(out, "\n") {
		if m := testLine.FindStringSubmatch(line); m != nil {
			tests = append(tests, outcome{name: m[2], passed: m[1] == "PASS"})
			continue
		}
		m := packageLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		for i := pending; i < len(tests); i++ {
			tests[i].pkg = m[2]
		}
		pending = len(tests)
		if m[1] == "ok" {
			okPackages = append(okPackages, m[2])
		}
	}
	return tests, okPackages
}

// inPackage reports whether c is in package pkg ("" matches any): its
// import path when kept, else its directory at the end of pkg.
func inPackage(c Candidate, pkg string) bool {
	if pkg == "" {
		return true
	}
	if c.Package != "" {
		return c.Package == pkg
	}
	dir := path.Dir(c.File)
	return dir == "." || pkg == dir || strings.HasSuffix(pkg, "/"+dir)
}

// match are the kept candidates test name in pkg names.
func match(kept []Candidate, name, pkg string) []Candidate {
	var out []Candidate
	for _, c := range kept {
		if c.Name == name && inPackage(c, pkg) {
			out = append(out, c)
		}
	}
	return out
}

// Blame attributes CI's failures to candidates, keyed by file: a
// candidate failed when a report says its test failed in its package, when
// a failed check run's output has `--- FAIL: <Name>` (in its package, when
// a `FAIL\t<pkg>` line says which), or names its file (a build error in
// it). Any other failed test, and a failed check run that names no test
// while no report blamed a candidate, is unexplained: the change itself,
// or CI, failed.
func Blame(kept []Candidate, checks []Check, results []testsel.Result) (failed map[string]string, unexplained []string) {
	failed = map[string]string{}
	seen := map[string]bool{}
	explain := func(s string) {
		if !seen[s] {
			seen[s] = true
			unexplained = append(unexplained, s)
		}
	}
	for _, res := range results {
		top, _, _ := strings.Cut(res.Test, "/")
		if res.Outcome != testsel.Failed {
			continue
		}
		ms := match(kept, top, res.Suite)
		for _, c := range ms {
			failed[c.File] = "failed in CI's test report"
		}
		if len(ms) == 0 {
			explain("test " + res.Test + " failed")
		}
	}
	byReports := len(failed) > 0
	for _, ch := range checks {
		if ch.Failed() && !blameOutput(kept, ch, failed, explain) && !byReports {
			explain("check run " + ch.Name + " failed without naming a proposed test")
		}
	}
	sort.Strings(unexplained)
	return failed, unexplained[:min(len(unexplained), maxUnexplained)]
}

// blameOutput blames the candidates a failed check run's output names,
// explains the other failed tests it names, and reports whether it named
// any test or candidate file.
func blameOutput(kept []Candidate, ch Check, failed map[string]string, explain func(string)) bool {
	named := false
	tests, _ := outcomes(ch.Output)
	for _, t := range tests {
		if t.passed {
			continue
		}
		named = true
		ms := match(kept, t.name, t.pkg)
		for _, c := range ms {
			if _, ok := failed[c.File]; !ok {
				failed[c.File] = "failed in check run " + ch.Name
			}
		}
		if len(ms) == 0 {
			explain("test " + t.name + " failed in check run " + ch.Name)
		}
	}
	for _, c := range kept {
		if fileNamed(kept, c, ch.Output) {
			named = true
			if _, ok := failed[c.File]; !ok {
				failed[c.File] = "its file is named in the output of check run " + ch.Name + " (a build error?)"
			}
		}
	}
	return named
}

// fileNamed: the output names c's file at a line — by its path, or by its
// base name when no other kept candidate has it.
func fileNamed(kept []Candidate, c Candidate, out string) bool {
	if strings.Contains(out, c.File+":") {
		return true
	}
	base := path.Base(c.File)
	for _, o := range kept {
		if o.File != c.File && path.Base(o.File) == base {
			return false
		}
	}
	return strings.Contains(out, base+":") && !strings.Contains(out, "--- ")
}

// Ran reports whether CI showed it ran the kept candidates: at least one
// check run completed with success (skipped and neutral ran nothing), and
// either every candidate passed in a report or in a successful check
// run's output (`--- PASS: <Name>`, or `ok  \t<pkg>` for its package), or
// every check branch protection requires passed.
func Ran(kept []Candidate, checks []Check, results []testsel.Result) bool {
	success, required, requiredGreen := false, false, true
	for _, c := range checks {
		success = success || c.Conclusion == "success"
		if c.Required {
			required = true
			requiredGreen = requiredGreen && c.Conclusion == "success"
		}
	}
	if !success {
		return false
	}
	if required && requiredGreen {
		return true
	}
	for _, c := range kept {
		if !passedIn(c, checks, results) {
			return false
		}
	}
	return len(kept) > 0
}

// passedIn: a report or a successful check run's output shows c passed.
func passedIn(c Candidate, checks []Check, results []testsel.Result) bool {
	for _, res := range results {
		top, _, _ := strings.Cut(res.Test, "/")
		if top == c.Name && res.Test == top && res.Outcome == testsel.Passed && inPackage(c, res.Suite) {
			return true
		}
	}
	for _, ch := range checks {
		if ch.Conclusion != "success" {
			continue
		}
		tests, ok := outcomes(ch.Output)
		for _, t := range tests {
			if t.passed && t.name == c.Name && inPackage(c, t.pkg) {
				return true
			}
		}
		for _, pkg := range ok {
			if inPackage(c, pkg) {
				return true
			}
		}
	}
	return false
}
