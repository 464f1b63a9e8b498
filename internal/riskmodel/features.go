// Package riskmodel learns each repository's risk from its own history:
// just-in-time defect prediction features of a change (size, spread,
// purpose, the history of the files it touches, its author's experience,
// ferry's path classes and rule score), an L2-regularized logistic
// regression trained only on labels known at the time, and the blend with
// the rules while labels are few. Pure: callers feed it changes in order.
package riskmodel

import (
	"math"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/change"
)

// Change is what the model knows of a change when it is scored.
type Change struct {
	At      time.Time
	Subject string // the commit subject or pull request title
	Author  string // "" unknown (the commit fixtures keep no authors)
	Merge   bool   // a merge commit
	PR      bool   // came through a pull request
	Files   []File
	// RuleScore is ferry's rule score (0–100): its rules are features too.
	RuleScore float64
}

// File is one file of a change.
type File struct {
	Path           string
	Added, Deleted int
	New            bool // added by the change
}

// Names are the features, in vector order, for explanations.
var Names = []string{
	"lines added", "lines deleted", "files", "directories", "subsystems", "spread (entropy)",
	"a fix", "a feature", "a refactor", "a revert", "a merge commit", "no pull request",
	"docs only", "tests only", "touches tests", "migration", "dependencies", "CI", "infrastructure", "configuration",
	"public API contract", "auth or security", "new files",
	"past changes to its files", "hot spot (most-changed file)", "its files' past reverts", "its files' past fixes",
	"age of its files", "days since its files last changed", "repository activity this week", "off hours",
	"author's changes", "author's changes in this subsystem", "author new here", "rule score", "an upgrade",
}

// halfLife weighs a file's past trouble: last month's counts more than
// last year's.
const halfLife = 180 * 24 * time.Hour

var (
	fixWords      = regexp.MustCompile(`(?i)\b(fix(e[sd])?|bug|hotfix|patch|regression|crash|broken|issue|error|wrong|incorrect)\b`)
	featureWords  = regexp.MustCompile(`(?i)^(feat|add|implement|introduce|support|new|enable|allow)\b|\bfeat(\(|:)`)
	refactorWords = regexp.MustCompile(`(?i)\b(refactor|cleanup|clean up|rename|move|simplify|tidy)\b`)
	revertWords   = regexp.MustCompile(`(?i)^(revert|reapply)\b`)
	upgradeWords  = regexp.MustCompile(`(?i)\b(bump|upgrade|update)\b.*\b(to|from)\b|\b(deps|dependencies)\b`)
)

// IsFix says whether a commit subject or pull request title says it fixes
// something: the commits SZZ blames from.
func IsFix(subject string) bool { return fixWords.MatchString(subject) }

type fileState struct {
	changes        int
	first, last    time.Time
	reverts, fixes []time.Time
}

type authorState struct {
	changes int
	bySub   map[string]int
}

// Tracker is what the history taught so far: each path's changes, age and
// trouble, each author's experience, the repository's pace. Observe every
// change after scoring it, in order; Trouble when a revert or fix reveals
// one, at the time it is revealed.
type Tracker struct {
	files   map[string]*fileState
	authors map[string]*authorState
	recent  []time.Time // change times of the last week
}

// NewTracker is a tracker that knows nothing.
func NewTracker() *Tracker {
	return &Tracker{files: map[string]*fileState{}, authors: map[string]*authorState{}}
}

// Features is the change's vector under what the tracker knows now.
func (t *Tracker) Features(c Change) []float64 {
	v := make([]float64, len(Names))
	var added, deleted, newFiles int
	dirs, subs := map[string]bool{}, map[string]bool{}
	classes := map[change.Class]bool{}
	docsOnly, testsOnly := len(c.Files) > 0, len(c.Files) > 0
	var pastChanges, hot, reverts, fixes, age, since float64
	since = -1
	for _, f := range c.Files {
		added, deleted = added+f.Added, deleted+f.Deleted
		dirs[path.Dir(f.Path)], subs[subsystem(f.Path)] = true, true
		cs := change.Classes(f.Path)
		for _, k := range cs {
			classes[k] = true
		}
		docsOnly = docsOnly && len(cs) == 1 && cs[0] == change.Docs
		testsOnly = testsOnly && len(cs) == 1 && (cs[0] == change.Tests || cs[0] == change.Docs)
		if f.New {
			newFiles++
		}
		s := t.files[f.Path]
		if s == nil {
			continue
		}
		pastChanges += float64(s.changes)
		hot = math.Max(hot, float64(s.changes))
		reverts += decayed(s.reverts, c.At)
		fixes += decayed(s.fixes, c.At)
		age = math.Max(age, c.At.Sub(s.first).Hours()/24)
		if d := c.At.Sub(s.last).Hours() / 24; since < 0 || d < since {
			since = d
		}
	}
	n := float64(max(1, len(c.Files)))
	v[0], v[1], v[2] = math.Log1p(float64(added)), math.Log1p(float64(deleted)), math.Log1p(float64(len(c.Files)))
	v[3], v[4], v[5] = math.Log1p(float64(len(dirs))), math.Log1p(float64(len(subs))), entropy(c.Files)
	v[6], v[7], v[8], v[9] = flag(fixWords.MatchString(c.Subject)), flag(featureWords.MatchString(c.Subject)),
		flag(refactorWords.MatchString(c.Subject)), flag(revertWords.MatchString(c.Subject))
	v[10], v[11] = flag(c.Merge), flag(!c.PR)
	v[12], v[13], v[14] = flag(docsOnly), flag(testsOnly), flag(classes[change.Tests])
	v[15], v[16], v[17] = flag(classes[change.Migration]), flag(classes[change.Deps]), flag(classes[change.CI])
	v[18], v[19] = flag(classes[change.Infra] || classes[change.Dockerfile]), flag(classes[change.Config] || classes[change.FeatureFlag])
	v[20], v[21], v[22] = flag(classes[change.APIContract]), flag(classes[change.Auth]), float64(newFiles)/n
	v[23], v[24], v[25], v[26] = math.Log1p(pastChanges/n), math.Log1p(hot), math.Log1p(reverts), math.Log1p(fixes)
	v[27], v[28] = math.Log1p(age), math.Log1p(math.Max(since, 0))
	v[29] = math.Log1p(float64(t.week(c.At)))
	v[30] = flag(offHours(c.At))
	if a := t.authors[strings.ToLower(c.Author)]; c.Author != "" {
		changes, inSub := 0, 0
		if a != nil {
			changes = a.changes
			for s := range subs {
				inSub += a.bySub[s]
			}
		}
		v[31], v[32], v[33] = math.Log1p(float64(changes)), math.Log1p(float64(inSub)), flag(inSub == 0)
	}
	v[34] = c.RuleScore / 100
	v[35] = flag(upgradeWords.MatchString(c.Subject))
	return v
}

// Observe adds a change to what the history teaches (after scoring it).
func (t *Tracker) Observe(c Change) {
	for _, f := range c.Files {
		s := t.files[f.Path]
		if s == nil {
			s = &fileState{first: c.At}
			t.files[f.Path] = s
		}
		s.changes++
		s.last = c.At
	}
	if c.Author != "" {
		a := t.authors[strings.ToLower(c.Author)]
		if a == nil {
			a = &authorState{bySub: map[string]int{}}
			t.authors[strings.ToLower(c.Author)] = a
		}
		a.changes++
		for _, f := range c.Files {
			a.bySub[subsystem(f.Path)]++
		}
	}
	t.recent = append(t.recent, c.At)
}

// Trouble records that changes to these paths were reverted (strong) or
// needed a fix (weak), revealed at at.
func (t *Tracker) Trouble(paths []string, at time.Time, strong bool) {
	for _, p := range paths {
		s := t.files[p]
		if s == nil {
			continue
		}
		if strong {
			s.reverts = append(s.reverts, at)
		} else {
			s.fixes = append(s.fixes, at)
		}
	}
}

func (t *Tracker) week(now time.Time) int {
	cut := now.Add(-7 * 24 * time.Hour)
	i := 0
	for i < len(t.recent) && t.recent[i].Before(cut) {
		i++
	}
	t.recent = t.recent[i:]
	return len(t.recent)
}

func decayed(ts []time.Time, now time.Time) float64 {
	s := 0.0
	for _, t := range ts {
		if age := now.Sub(t); age >= 0 {
			s += math.Exp2(-float64(age) / float64(halfLife))
		}
	}
	return s
}

// subsystem is a path's top-level directory ("" at the root).
func subsystem(p string) string {
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return ""
}

func entropy(files []File) float64 {
	lines := make([]int, len(files))
	for i, f := range files {
		lines[i] = f.Added + f.Deleted
	}
	return change.Entropy(lines)
}

func offHours(t time.Time) bool {
	if t.IsZero() {
		return false
	}
	h := t.Hour() // the author's own clock: the date carries its offset
	return t.Weekday() == time.Saturday || t.Weekday() == time.Sunday || h < 8 || h >= 19
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
