package testsel

import (
	"sort"
	"strings"
	"time"
)

// Run is one CI run's test results on one commit (a re-run of the same
// commit is another Run with another ID). Group names the job it came
// from (a workflow and its report): only runs of the same job on the same
// commit are compared — a test that always fails on one platform of a
// matrix and passes on another is broken there, not flaky.
type Run struct {
	SHA     string
	Group   string
	ID      string
	At      time.Time
	Results []Result
}

// Flakiness is how flaky a test was over a window of runs.
type Flakiness struct {
	Test     string   `json:"test"`
	Runs     int      `json:"runs"`     // runs that reported it
	Failures int      `json:"failures"` // of them, failed
	Commits  int      `json:"commits"`  // distinct commits it ran on
	Events   []string `json:"events"`   // commits where it both failed and passed: flake events
	// Score is the share of its commits with a flake event: 0 never
	// flaked, 1 flaked on every commit it ran on twice or more.
	Score float64 `json:"score"`
	// Passing is how many of its latest runs passed in a row.
	Passing int `json:"passing"`
}

// Flakes scores every test reported in runs at or after since: a test that
// failed and passed on the same commit — nothing changed in between — is
// a flake event there. Sorted by score, then events, then name.
func Flakes(runs []Run, since time.Time) []Flakiness {
	t := tally{byTest: map[string]*Flakiness{}, outcomes: map[string]map[string]*seen{}}
	sorted := append([]Run(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	for _, run := range sorted {
		if !run.At.Before(since) {
			t.add(run)
		}
	}
	out := make([]Flakiness, 0, len(t.byTest))
	for id, f := range t.byTest {
		out = append(out, t.score(id, f))
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		if len(a.Events) != len(b.Events) {
			return len(a.Events) > len(b.Events)
		}
		return a.Test < b.Test
	})
	return out
}

// seen is what one job on one commit said of a test.
type seen struct{ passed, failed bool }

// tally counts each test's runs, oldest first.
type tally struct {
	byTest   map[string]*Flakiness
	outcomes map[string]map[string]*seen // test → commit and job → outcomes
}

func (t *tally) add(run Run) {
	for _, r := range run.Results {
		if r.Outcome == Skipped {
			continue
		}
		id := r.ID()
		f := t.byTest[id]
		if f == nil {
			f = &Flakiness{Test: id}
			t.byTest[id], t.outcomes[id] = f, map[string]*seen{}
		}
		f.Runs++
		key := run.SHA + "\x00" + run.Group
		s := t.outcomes[id][key]
		if s == nil {
			s = &seen{}
			t.outcomes[id][key] = s
		}
		if r.Outcome == Failed {
			f.Failures++
			s.failed, f.Passing = true, 0
		} else {
			s.passed = true
			f.Passing++
		}
	}
}

// score finds a test's flake events: commits where one job both failed and
// passed it.
func (t *tally) score(id string, f *Flakiness) Flakiness {
	commits, events := map[string]bool{}, map[string]bool{}
	for key, s := range t.outcomes[id] {
		sha, _, _ := strings.Cut(key, "\x00")
		commits[sha] = true
		if s.passed && s.failed {
			events[sha] = true
		}
	}
	f.Commits = len(commits)
	for sha := range events {
		f.Events = append(f.Events, sha)
	}
	sort.Strings(f.Events)
	f.Score = float64(len(f.Events)) / float64(f.Commits)
	return *f
}
