package calibrate

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

func TestAUC(t *testing.T) {
	mk := func(points []float64, pos []bool) []scored {
		var out []scored
		for i, p := range points {
			out = append(out, scored{points: p, reverted: pos[i]})
		}
		return out
	}
	isPos := func(s scored) bool { return s.reverted }
	tests := []struct {
		name   string
		points []float64
		pos    []bool
		want   float64
	}{
		{"perfect", []float64{1, 2, 3, 4}, []bool{false, false, true, true}, 1},
		{"inverted", []float64{1, 2, 3, 4}, []bool{true, true, false, false}, 0},
		{"all tied", []float64{5, 5, 5, 5}, []bool{true, false, true, false}, 0.5},
		{"one of four pairs wrong", []float64{1, 2, 3, 4}, []bool{false, true, false, true}, 0.75},
		{"ties count half", []float64{1, 2, 2, 3}, []bool{false, true, false, true}, 0.875},
	}
	for _, tt := range tests {
		if got := auc(mk(tt.points, tt.pos), func(s scored) float64 { return s.points }, isPos); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: auc %.4f, want %.4f", tt.name, got, tt.want)
		}
	}
}

// TestReplaySeesOnlyThePast: a file's trouble (a revert) counts only for
// commits after it; the replay reports counts and suggested thresholds.
func TestReplaySeesOnlyThePast(t *testing.T) {
	day := time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC)
	var commits []Commit
	for i := range 100 {
		c := Commit{SHA: fmt.Sprint(i), Date: day.Add(time.Duration(i) * time.Hour),
			Files: []File{{Path: fmt.Sprintf("pkg/f%d.go", i%10), Added: 5 + i%3}}}
		if i%10 == 9 {
			c.Files = append(c.Files, File{Path: "billing/charge.go", Added: 400}, File{Path: "billing/tax.go", Added: 300})
			c.Reverted = true
		}
		commits = append(commits, c)
	}
	r := Replay(commits, policy.Default(), 0.6)
	if r.Commits != 100 || r.Reverted != 10 {
		t.Fatalf("counts %+v", r)
	}
	if r.AUC < 0.95 || r.RecallMediumPlus < 0.9 {
		t.Fatalf("big reverted commits not singled out: auc %.2f recall %.2f", r.AUC, r.RecallMediumPlus)
	}
	if r.Levels[risk.Low]+r.Levels[risk.Medium]+r.Levels[risk.High] != 100 || r.Suggested.FastPathShare < 0.6 {
		t.Fatalf("levels %v suggested %+v", r.Levels, r.Suggested)
	}
}
