package testgen

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// profile is go test's profile of the clamp module's head with only the
// base's test: the swap of reversed bounds (lines 6–8) and Wrap (20–28)
// never ran.
const profile = `mode: set
example.com/clamp/clamp.go:5.31,6.13 1 1
example.com/clamp/clamp.go:6.13,8.3 1 0
example.com/clamp/clamp.go:9.2,9.12 1 1
example.com/clamp/clamp.go:9.12,11.3 1 1
example.com/clamp/clamp.go:12.2,12.12 1 1
example.com/clamp/clamp.go:12.12,14.3 1 1
example.com/clamp/clamp.go:15.2,15.10 1 1
example.com/clamp/clamp.go:20.25,21.12 1 0
example.com/clamp/clamp.go:21.12,23.3 1 0
example.com/clamp/clamp.go:24.2,25.11 2 0
example.com/clamp/clamp.go:25.11,27.3 1 0
example.com/clamp/clamp.go:28.2,28.10 1 0
`

func TestCoverage(t *testing.T) {
	c, err := ParseCoverage(strings.NewReader(profile))
	if err != nil {
		t.Fatal(err)
	}
	clamp := Target{ImportPath: "example.com/clamp", File: "clamp.go", Func: "Clamp", Changed: []int{6, 7, 8}}
	wrap := Target{ImportPath: "example.com/clamp", File: "clamp.go", Func: "Wrap", Changed: []int{17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29}}
	// Line 6 ran (its condition is the end of the block before); 7 and 8
	// are the swap. Lines 17–19 and 29 hold no statement.
	got := withUncovered([]Target{clamp, wrap, {ImportPath: "example.com/clamp", File: "clamp.go", Func: "Covered", Changed: []int{9, 10}}}, c)
	want := [][]int{{7, 8}, {20, 21, 22, 23, 24, 25, 26, 27, 28}}
	var uncovered [][]int
	for _, t := range got {
		uncovered = append(uncovered, t.Uncovered)
	}
	if d := cmp.Diff(want, uncovered); d != "" {
		t.Errorf("uncovered (-want +got):\n%s", d)
	}
	if got, want := ChangedLinesCoverage(c, []Target{clamp, wrap}), 1.0/12; got != want {
		t.Errorf("ChangedLinesCoverage = %v, want %v", got, want)
	}
	more, err := ParseCoverage(strings.NewReader("mode: atomic\nexample.com/clamp/clamp.go:21.12,23.3 1 4\n"))
	if err != nil {
		t.Fatal(err)
	}
	c.Merge(more)
	if got, want := ChangedLinesCoverage(c, []Target{clamp, wrap}), 4.0/12; got != want {
		t.Errorf("after merge = %v, want %v", got, want)
	}
	if got := ChangedLinesCoverage(c, []Target{{ImportPath: "example.com/other", File: "x.go", Changed: []int{1}}}); got != 1 {
		t.Errorf("no statement lines = %v, want 1", got)
	}
}

func TestCoverage_BadProfile(t *testing.T) {
	for _, bad := range []string{"x.go 1 1", "x.go:1.1,2.2 1", "x.go:a.1,2.2 1 1", "x.go:1.1 1 1"} {
		if _, err := ParseCoverage(strings.NewReader("mode: set\n" + bad + "\n")); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
