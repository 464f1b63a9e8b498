package riskmodel

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Reason is one of the model's top contributions to a change's score, in
// words. Summary holds no repository content; Paths (files, directories)
// are the evidence, for the caller to quote and escape.
type Reason struct {
	Feature string   `json:"feature"`
	Summary string   `json:"summary"`
	Paths   []string `json:"paths,omitempty"`
	LogOdds float64  `json:"log_odds"`
}

// yesNo are the features that are 0 or 1.
var yesNo = map[string]bool{}

func init() {
	for _, n := range Names[6:22] {
		yesNo[n] = true
	}
	yesNo["off hours"], yesNo["author new here"], yesNo["an upgrade"] = true, true, true
}

// worthSaying: a feature is a reason when the change has more of it
// than usual (a yes/no one: has it at all) — "not docs only" or "rarely
// changed files" explain nothing — except the author's experience, a
// reason when it is low.
func (l *Learner) worthSaying(i int, x float64) bool {
	switch {
	case yesNo[Names[i]]:
		return x == 1
	case Names[i] == "author's changes" || Names[i] == "author's changes in this subsystem":
		return x < l.model.Mean[i]
	}
	return x > l.model.Mean[i]
}

// minContribution is the least push (log-odds) worth saying.
const minContribution = 0.15

// Explain says the model's strongest reasons to rate the change riskier
// than an average one (at most top), strongest first; nil without a
// model.
func (l *Learner) Explain(c Change, s Scored, top int) []Reason {
	type contrib struct {
		i int
		v float64
	}
	var cs []contrib
	for i, v := range s.Contributions {
		// A yes/no feature the change lacks is no reason to say: "not
		// docs only" explains nothing.
		if v >= minContribution && l.worthSaying(i, s.Features[i]) {
			cs = append(cs, contrib{i, v})
		}
	}
	sort.Slice(cs, func(a, b int) bool { return cs[a].v > cs[b].v })
	var out []Reason
	for _, x := range cs {
		if len(out) == top {
			break
		}
		sum, paths := l.say(x.i, c, s.Features[x.i])
		out = append(out, Reason{Feature: Names[x.i], Summary: sum, Paths: paths, LogOdds: math.Round(x.v*100) / 100})
	}
	return out
}

// say words feature i of change c.
func (l *Learner) say(i int, c Change, v float64) (string, []string) {
	n := int(math.Round(math.Expm1(v))) // most counts are log1p'd
	switch Names[i] {
	case "lines added":
		return fmt.Sprintf("adds %d lines", n), nil
	case "lines deleted":
		return fmt.Sprintf("deletes %d lines", n), nil
	case "files":
		return fmt.Sprintf("touches %d files", n), nil
	case "directories", "subsystems":
		return fmt.Sprintf("spans %d %s", n, Names[i]), nil
	case "past changes to its files", "hot spot (most-changed file)":
		p, k := l.Tracker.most(c, func(f *fileState) float64 { return float64(f.changes) })
		return fmt.Sprintf("touches a file changed %.0f times before", k), p
	case "its files' past reverts":
		p, k := l.Tracker.most(c, func(f *fileState) float64 { return recent(f.reverts, c.At, 365*24*time.Hour) })
		return fmt.Sprintf("%.0f reverts in the last year touched", k), p
	case "its files' past fixes":
		p, k := l.Tracker.most(c, func(f *fileState) float64 { return recent(f.fixes, c.At, 90*24*time.Hour) })
		return fmt.Sprintf("%.0f fixes in the last 90 days touched", k), p
	case "repository activity this week":
		return fmt.Sprintf("one of %d changes this week", n), nil
	case "author's changes":
		if n == 0 {
			return "the author's first change in this repository", nil
		}
		return fmt.Sprintf("the author has made only %d changes here", n), nil
	case "author's changes in this subsystem", "author new here":
		if v == 0 || Names[i] == "author new here" {
			return "the author's first change under", subsystems(c)
		}
		return fmt.Sprintf("the author has made %d changes under", n), subsystems(c)
	case "rule score":
		return fmt.Sprintf("ferry's rules score it %.0f/100", 100*v), nil
	case "age of its files":
		return fmt.Sprintf("touches files first written %d days ago", n), nil
	case "days since its files last changed":
		return fmt.Sprintf("its files had not changed for %d days", n), nil
	}
	return Names[i], nil
}

// most is the file of c with the highest value of f, and that value.
func (t *Tracker) most(c Change, f func(*fileState) float64) ([]string, float64) {
	best, path := -1.0, ""
	for _, x := range c.Files {
		if s := t.files[x.Path]; s != nil && f(s) > best {
			best, path = f(s), x.Path
		}
	}
	if path == "" {
		return nil, 0
	}
	return []string{path}, best
}

func recent(ts []time.Time, now time.Time, within time.Duration) float64 {
	n := 0.0
	for _, t := range ts {
		if !t.After(now) && now.Sub(t) <= within {
			n++
		}
	}
	return n
}

func subsystems(c Change) []string {
	seen := map[string]bool{}
	var out []string
	for _, f := range c.Files {
		if s := subsystem(f.Path); !seen[s] {
			seen[s] = true
			if s == "" {
				s = "the root"
			} else {
				s += "/"
			}
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
