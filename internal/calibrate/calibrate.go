// Package calibrate replays a repository's first-parent history through
// risk.Assess, in order, so history features see only the past, and
// measures how well the scores would have singled out the commits that were
// later reverted. Pure: the caller reads the history.
package calibrate

import (
	"encoding/json"
	"math"
	"sort"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/riskmodel"
)

// Commit is one first-parent commit: numstat metadata and what became of it
// (the format of the commits fixtures, one JSON object a line).
type Commit struct {
	SHA      string    `json:"sha"`
	Date     time.Time `json:"author_date"`
	Subject  string    `json:"subject"`
	Title    string    `json:"title"`  // a merge commit's pull request title
	PR       *int      `json:"pr"`     // the pull request it came from
	Author   string    `json:"author"` // "" unknown (the fixtures keep none)
	IsMerge  bool      `json:"is_merge"`
	Files    []File    `json:"files"`
	IsRevert bool      `json:"is_revert"`
	Reverts  []string  `json:"reverts"`  // the commits a revert names (from its message)
	Reverted bool      `json:"reverted"` // a later commit reverted this one
	// RevertedBy are the commits that reverted it: their time is when the
	// label became known.
	RevertedBy []string `json:"reverted_by"`
	// FixFollowup is weak evidence of a defect: a later commit says it
	// fixes this one (FixFollowupBy).
	FixFollowup   bool       `json:"fix_followup_weak"`
	FixFollowupBy []Followup `json:"fix_followup_by"`
	// Fixes are, for a fix, the commits SZZ blamed (read or not).
	Fixes []string `json:"fixes,omitempty"`
}

// Followup is a later commit that fixed one.
type Followup struct {
	SHA string `json:"sha"`
}

// File is one file of a commit.
type File struct {
	Path    string `json:"path"`
	Added   int    `json:"added"`
	Deleted int    `json:"deleted"`
	Status  string `json:"status"`
	OldPath string `json:"old_path"`
}

// Figures are how well one score singled out the commits later reverted,
// at the levels it gave.
type Figures struct {
	RecallMediumPlus Figure `json:"recall_medium_plus"` // of reverted commits
	FastPathShare    Figure `json:"fast_path_share"`
	AUC              Figure `json:"auc"`              // reverted vs not; NaN (null) without both
	AUCFixFollowup   Figure `json:"auc_fix_followup"` // weak labels, separately
}

// Figure is a measured share or AUC; undefined (NaN: no reverts, say) is
// written as null in JSON.
type Figure float64

// MarshalJSON writes NaN and infinities as null.
func (f Figure) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// Report is what a replay measured: ferry's score as it routes (the model
// learned from the history so far, blended with the rules while labels are
// few, at the target fast-path share, with the floors), the rules alone at
// the policy's thresholds, and the lines-added baseline at the target
// share, side by side.
type Report struct {
	Commits      int                `json:"commits"`
	Reverted     int                `json:"reverted"`
	FixFollowups int                `json:"fix_followups"`
	Levels       map[risk.Level]int `json:"levels"`
	Figures
	Rules    Figures `json:"rules"`
	Baseline Figures `json:"baseline_lines_added"`
	// ModelShare is the model's average share of the final scores: 0 while
	// it had too few labels to speak.
	ModelShare float64    `json:"model_share"`
	Suggested  Suggestion `json:"suggested"` // rule thresholds for the target share
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
	points            float64 // the rules' points
	score             int     // the rules' score
	ruleLevel         risk.Level
	learned           float64 // ferry's score: the learner's
	level             risk.Level
	added             float64
	share             float64
	reverted, fixedUp bool
}

// reveal is a label a commit makes known about an earlier one.
type reveal struct {
	target int
	strong bool
}

// Replay assesses every commit in order, as ferry would have: the rules
// see the history so far; the learner scores with the model trained on
// the labels known at that time (a revert or fix reveals its target only
// when it lands) and learns from each commit after scoring it. target is
// the fast-path share ferry aims for (e.g. 0.6).
func Replay(commits []Commit, p policy.Policy, target float64) Report {
	h := History(nil)
	learner := riskmodel.NewLearner(riskmodel.Config{})
	revealed := revealers(commits)
	out := make([]scored, 0, len(commits))
	for _, c := range commits {
		for _, rv := range revealed[c.SHA] {
			t := commits[rv.target]
			learner.Label(t.SHA, c.Date, rv.strong, paths(t))
		}
		a := risk.Assess(risk.Input{Change: toChange(c), History: h, Policy: p, Now: c.Date, Kind: risk.PullRequest})
		mc := ModelChange(c, RulePoints(c, p))
		s := learner.Score(mc)
		out = append(out, scored{points: a.Points, score: a.Score, ruleLevel: a.Level, learned: s.Score,
			level: risk.LevelAt(s.Score, target, a.Floor), added: float64(added(c)), share: s.ModelShare,
			reverted: c.Reverted, fixedUp: c.FixFollowup})
		learner.Observe(c.SHA, mc, s)
		learn(&h, c)
	}
	return report(out, target)
}

func revealers(commits []Commit) map[string][]reveal {
	out := map[string][]reveal{}
	for i, c := range commits {
		for _, by := range c.RevertedBy {
			out[by] = append(out[by], reveal{i, true})
		}
		for _, f := range c.FixFollowupBy {
			out[f.SHA] = append(out[f.SHA], reveal{i, false})
		}
	}
	return out
}

// RulePoints are the rule points of a commit without the history rule:
// the model learns history itself, and a server backfill cannot know the
// rules' history as it was then.
func RulePoints(c Commit, p policy.Policy) float64 {
	return risk.Assess(risk.Input{Change: toChange(c), Policy: p, Now: c.Date, Kind: risk.PullRequest}).Points
}

// ModelChange is what the learner knows of a commit.
func ModelChange(c Commit, rulePoints float64) riskmodel.Change {
	subject := c.Subject
	if c.Title != "" {
		subject = c.Title
	}
	mc := riskmodel.Change{At: c.Date, Subject: subject, Author: c.Author, Merge: c.IsMerge, PR: c.PR != nil,
		RuleScore: math.Min(100, rulePoints)}
	for _, f := range c.Files {
		mc.Files = append(mc.Files, riskmodel.File{Path: f.Path, Added: f.Added, Deleted: f.Deleted, New: f.Status == "A"})
	}
	return mc
}

func paths(c Commit) []string {
	out := make([]string, len(c.Files))
	for i, f := range c.Files {
		out[i] = f.Path
	}
	return out
}

func added(c Commit) int {
	n := 0
	for _, f := range c.Files {
		n += f.Added
	}
	return n
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

func report(all []scored, target float64) Report {
	r := Report{Commits: len(all), Levels: map[risk.Level]int{}}
	for _, s := range all {
		r.Levels[s.level]++
		r.ModelShare += s.share / float64(len(all))
		if s.reverted {
			r.Reverted++
		}
		if s.fixedUp {
			r.FixFollowups++
		}
	}
	r.Figures = figures(all, func(s scored) float64 { return s.learned }, func(s scored) risk.Level { return s.level })
	r.Rules = figures(all, func(s scored) float64 { return s.points }, func(s scored) risk.Level { return s.ruleLevel })
	cut := quantile(all, func(s scored) float64 { return s.added }, target)
	r.Baseline = figures(all, func(s scored) float64 { return s.added }, func(s scored) risk.Level {
		if s.added > cut {
			return risk.Medium
		}
		return risk.Low
	})
	r.Suggested = suggest(all, target)
	return r
}

// figures measures one score and the levels it gave.
func figures(all []scored, score func(scored) float64, level func(scored) risk.Level) Figures {
	var f Figures
	var low, rev, hits int
	for _, s := range all {
		l := level(s)
		if l == risk.Low {
			low++
		}
		if s.reverted {
			rev++
			if l != risk.Low {
				hits++
			}
		}
	}
	f.RecallMediumPlus, f.FastPathShare = Figure(math.NaN()), Figure(math.NaN())
	if rev > 0 {
		f.RecallMediumPlus = Figure(float64(hits) / float64(rev))
	}
	if len(all) > 0 {
		f.FastPathShare = Figure(float64(low) / float64(len(all)))
	}
	f.AUC = Figure(auc(all, score, func(s scored) bool { return s.reverted }))
	f.AUCFixFollowup = Figure(auc(all, score, func(s scored) bool { return s.fixedUp }))
	return f
}

// quantile is the value under which the share q of scores lie.
func quantile(all []scored, score func(scored) float64, q float64) float64 {
	if len(all) == 0 {
		return 0
	}
	v := make([]float64, len(all))
	for i, s := range all {
		v[i] = score(s)
	}
	sort.Float64s(v)
	return v[min(len(v)-1, int(q*float64(len(v))))]
}

// auc is the probability that a positive outranks a negative (ties half):
// the Mann-Whitney U statistic, normalized.
func auc(all []scored, score func(scored) float64, positive func(scored) bool) float64 {
	idx := make([]int, len(all))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return score(all[idx[a]]) < score(all[idx[b]]) })
	var rankSum, pos float64
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && score(all[idx[j]]) == score(all[idx[i]]) {
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
