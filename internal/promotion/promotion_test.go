package promotion

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

var t0 = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func at(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }

// TestRunning: what runs is the newest deploy that succeeded, unless a
// rollback after it restored the one before; failed deploys change
// nothing.
func TestRunning(t *testing.T) {
	tests := []struct {
		name    string
		deploys []Ran // newest first
		want    string
	}{
		{"none", nil, ""},
		{"one", []Ran{{SHA: "a", Succeeded: true}}, "a"},
		{"failed after", []Ran{{SHA: "b", RolledBack: true}, {SHA: "a", Succeeded: true}}, "a"},
		{"rolled back by request", []Ran{{SHA: "r", Rollback: true, Succeeded: true}, {SHA: "b", Succeeded: true}, {SHA: "a", Succeeded: true}}, "a"},
		{"rollback of the first", []Ran{{SHA: "r", Rollback: true, Succeeded: true}, {SHA: "a", Succeeded: true}}, ""},
		{"failed rollback", []Ran{{SHA: "r", Rollback: true}, {SHA: "b", Succeeded: true}}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Running(tt.deploys); got != tt.want {
				t.Fatalf("Running = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSources: each commit that succeeded where the environment promotes
// from, since its deploy finished and until the next replaced it; a
// commit rolled back there is no source.
func TestSources(t *testing.T) {
	got := Sources([]Ran{
		{SHA: "c", Succeeded: true, FinishedAt: at(3)},
		{SHA: "x", RolledBack: true, FinishedAt: at(2)},
		{SHA: "b", Succeeded: true, FinishedAt: at(1)},
		{SHA: "a", Succeeded: true, FinishedAt: at(0)},
		{SHA: "x", Succeeded: true, FinishedAt: at(-1)},
	})
	want := map[string]Source{"c": {Since: at(3)}, "b": {Since: at(1), Until: at(3)}, "a": {Since: at(0), Until: at(1)}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatal(diff)
	}
	if d := want["b"].RanFor(at(9)); d != 2*time.Hour {
		t.Fatalf("ran for %s", d)
	}
}

// TestChoose: the newest eligible commit not rolled back in the target.
func TestChoose(t *testing.T) {
	commits := []Commit{{SHA: "a"}, {SHA: "b"}, {SHA: "c"}, {SHA: "d"}}
	eligible := func(sha string) bool { return sha == "b" || sha == "c" }
	if i, ok := Choose(commits, eligible, func(string) bool { return false }); !ok || i != 2 {
		t.Fatalf("%d %t", i, ok)
	}
	if i, ok := Choose(commits, eligible, func(sha string) bool { return sha == "c" }); !ok || i != 1 {
		t.Fatalf("%d %t", i, ok)
	}
	if _, ok := Choose(commits, func(string) bool { return false }, func(string) bool { return false }); ok {
		t.Fatal("chose an ineligible commit")
	}
}

// TestCombine: the riskiest change routes the deploy; a high level never
// ships all at once; an unassessed change is not low and needs a human.
func TestCombine(t *testing.T) {
	low := Change{Commit: Commit{SHA: "l"}, Assessed: true, Level: risk.Low, Proposal: Plan{Strategy: policy.Rolling, Watch: 5 * time.Minute}}
	med := Change{Commit: Commit{SHA: "m"}, Assessed: true, Level: risk.Medium, Proposal: Plan{Strategy: policy.Rolling, Watch: 15 * time.Minute}}
	high := Change{Commit: Commit{SHA: "h"}, Assessed: true, Level: risk.High,
		Proposal: Plan{Strategy: policy.Rolling, Watch: 30 * time.Minute, NeedHuman: []string{"auth"}}}
	tests := []struct {
		name    string
		changes []Change
		want    Plan
	}{
		{"low only", []Change{low}, Plan{Level: risk.Low, Strategy: policy.Rolling, Watch: 5 * time.Minute}},
		{"medium wins", []Change{low, med}, Plan{Level: risk.Medium, Strategy: policy.Rolling, Watch: 15 * time.Minute}},
		{"high is a canary", []Change{med, high, low}, Plan{Level: risk.High, Strategy: policy.Canary, Watch: 30 * time.Minute, NeedHuman: []string{"auth"}}},
		{"unassessed", []Change{low, {Commit: Commit{SHA: "u1234567890"}}}, Plan{Level: risk.Medium, Strategy: policy.Rolling,
			Watch: 5 * time.Minute, NeedHuman: []string{"ferry has not assessed u1234567"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, combine(tt.changes)); diff != "" {
				t.Fatal(diff)
			}
		})
	}
}
