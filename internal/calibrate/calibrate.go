// Package calibrate replays a repository's first-parent history through
// risk.Assess, in order, so history features see only the past, and
// measures how well the scores would have singled out the commits that were
// later reverted. Pure: the caller reads the history.
package calibrate

import (
	"math"
	"sort"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// Commit is one first-parent commit: numstat metadata and what became of it
// (the format of the commits fixtures, one JSON object a line).
type Commit struct {
	SHA      string    `json:"sha"`
	Date     time.Time `json:"author_date"`
	Subject  string    `json:"subject"`
	IsMerge  bool      `json:"is_merge"`
	Files    []File    `json:"files"`
	IsRevert bool      `json:"is_revert"`
	Reverted bool      `json:"reverted"` // a later commit reverted this one
	// FixFollowup is weak evidence of a defect: a later commit says it
	// fixes this one.
	FixFollowup bool `json:"fix_followup_weak"`
}

// File is one file of a commit.
type File struct {
	Path    string `json:"path"`
	Added   int    `json:"added"`
	Deleted int    `json:"deleted"`
	Status  string `json:"status"`
	OldPath string `json:"old_path"`
}

// Report is what a replay measured.
type Report struct {
	Commits          int                `json:"commits"`
	Reverted         int                `json:"reverted"`
	FixFollowups     int                `json:"fix_followups"`
	Levels           map[risk.Level]int `json:"levels"`
	RecallMediumPlus float64            `json:"recall_medium_plus"` // of reverted commits
	FastPathShare    float64            `json:"fast_path_share"`
	AUC              float64            `json:"auc"`              // reverted vs not
	AUCFixFollowup   float64            `json:"auc_fix_followup"` // weak labels, separately
	Suggested        Suggestion         `json:"suggested"`
}

// Suggestion is a medium threshold that gives a target fast-path share, and
// the recall it would have had.
type Suggestion struct {
	FastPathShare    float64 `json:"fast_path_share"`
	Medium           int     `json:"medium"`
	High             int     `json:"high"`
	RecallMediumPlus float64 `json:"recall_medium_plus"`
}

type scored struct {
	points            float64
	score             int
	level             risk.Level
	reverted, fixedUp bool
}

// Replay assesses every commit in order. target is the fast-path share the
// suggested thresholds aim for (e.g. 0.6).
func Replay(commits []Commit, p policy.Policy, target float64) Report {
	h := History(nil)
	out := make([]scored, 0, len(commits))
	for _, c := range commits {
		a := risk.Assess(risk.Input{Change: toChange(c), History: h, Policy: p, Now: c.Date, Kind: risk.PullRequest})
		out = append(out, scored{a.Points, a.Score, a.Level, c.Reverted, c.FixFollowup})
		learn(&h, c)
	}
	return report(out, p, target)
}

func toChange(c Commit) change.Change {
	ch := change.Change{Head: c.SHA}
	for _, f := range c.Files {
		ch.Files = append(ch.Files, change.File{Path: f.Path, PreviousPath: f.OldPath, Additions: f.Added, Deletions: f.Deleted})
	}
	return ch
}

// History is what earlier commits (oldest first) teach the history rule.
func History(commits []Commit) risk.History {
	h := risk.History{Incidents: map[string][]time.Time{}, Changes: map[string]int{}}
	for _, c := range commits {
		learn(&h, c)
	}
	return h
}

// learn adds what the commit teaches to the history: its files changed, and
// a revert marks the files it touches as trouble at that time.
func learn(h *risk.History, c Commit) {
	for _, f := range c.Files {
		h.Changes[f.Path]++
		if c.IsRevert {
			h.Incidents[f.Path] = append(h.Incidents[f.Path], c.Date)
		}
	}
}

func report(all []scored, p policy.Policy, target float64) Report {
	r := Report{Commits: len(all), Levels: map[risk.Level]int{}}
	var hits int
	for _, s := range all {
		r.Levels[s.level]++
		if s.reverted {
			r.Reverted++
			if s.level != risk.Low {
				hits++
			}
		}
		if s.fixedUp {
			r.FixFollowups++
		}
	}
	if r.Reverted > 0 {
		r.RecallMediumPlus = float64(hits) / float64(r.Reverted)
	}
	if r.Commits > 0 {
		r.FastPathShare = float64(r.Levels[risk.Low]) / float64(r.Commits)
	}
	r.AUC = auc(all, func(s scored) bool { return s.reverted })
	r.AUCFixFollowup = auc(all, func(s scored) bool { return s.fixedUp })
	r.Suggested = suggest(all, target)
	return r
}

// auc is the probability that a positive outranks a negative (ties half):
// the Mann-Whitney U statistic, normalized.
func auc(all []scored, positive func(scored) bool) float64 {
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return all[idx[a]].points < all[idx[b]].points })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && all[idx[j]].points == all[idx[i]].points {
			j++
		}
		mid := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if positive(all[idx[k]]) {
				rankSum += mid
				pos++
			}
		}
		i = j
	}
	neg := float64(len(all)) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - pos*(pos+1)/2) / (pos * neg)
}

// suggest finds the lowest medium threshold that keeps at least target of
// commits on the fast path, and a high threshold at the 90th percentile.
func suggest(all []scored, target float64) Suggestion {
	if len(all) == 0 {
		return Suggestion{}
	}
	scores := make([]int, len(all))
	for i, s := range all {
		scores[i] = s.score
	}
	sort.Ints(scores)
	s := Suggestion{Medium: 100, High: 100}
	for m := 1; m <= 100; m++ {
		below := sort.SearchInts(scores, m) // commits scoring < m
		if float64(below)/float64(len(scores)) >= target {
			s.Medium, s.FastPathShare = m, float64(below)/float64(len(scores))
			break
		}
	}
	s.High = max(s.Medium+1, scores[min(len(scores)-1, len(scores)*9/10)])
	var rev, hit int
	for _, x := range all {
		if x.reverted {
			rev++
			if x.score >= s.Medium {
				hit++
			}
		}
	}
	if rev > 0 {
		s.RecallMediumPlus = float64(hit) / float64(rev)
	}
	return s
}
