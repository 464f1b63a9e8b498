package risk

import (
	"fmt"
	"math"
	"path"
	"sort"
	"time"
)

// halfLife of an incident's weight: what broke last month matters more than
// what broke last year.
const halfLife = 90 * 24 * time.Hour

func decay(age time.Duration) float64 {
	if age < 0 {
		age = 0
	}
	return math.Exp2(-float64(age) / float64(halfLife))
}

// historyRule: files (fully) and their directories (half) that were
// reverted, rolled back or hot-fixed before, decaying with age; and hot
// spots that change often.
func historyRule(p *prepared) (Reason, bool) {
	in := p.Input
	byDir := map[string][]time.Time{}
	for p, ts := range in.History.Incidents {
		byDir[path.Dir(p)] = append(byDir[path.Dir(p)], ts...)
	}
	type hit struct {
		path  string
		score float64
		n     int
	}
	var hits []hit
	worst := 0.0
	for _, f := range p.relevant {
		s, n := 0.0, 0
		for _, t := range in.History.Incidents[f.Path] {
			s += decay(in.Now.Sub(t))
			n++
		}
		for _, t := range byDir[path.Dir(f.Path)] {
			s += 0.5 * decay(in.Now.Sub(t))
		}
		s += 0.3 * scale(float64(in.History.Changes[f.Path]), 200) // churn: a hot spot
		if s > 0.05 {
			hits = append(hits, hit{f.Path, s, n})
		}
		worst = math.Max(worst, s)
	}
	if len(hits) == 0 {
		return Reason{}, false
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].score > hits[j].score })
	var ev []Evidence
	for _, h := range hits {
		note := fmt.Sprintf("changed %d times before", in.History.Changes[h.path])
		if h.n > 0 {
			note = fmt.Sprintf("reverted or rolled back %s before; ", plural(h.n, "time", "times")) + note
		}
		ev = append(ev, Evidence{Path: h.path, Note: note})
	}
	return Reason{Rule: "history", Weight: round1(in.Policy.Weight("history") * math.Min(1, worst)),
		Summary: "touches code with a history of trouble or churn (" + plural(len(hits), "file", "files") + ")", Evidence: capped(ev)}, true
}

// offHoursRule: a deploy outside working hours, or before a weekend, has
// fewer people around when it goes wrong. Pull requests are not deployed.
func offHoursRule(p *prepared) (Reason, bool) {
	in := p.Input
	if in.Kind != Push || in.Now.IsZero() {
		return Reason{}, false
	}
	open, why := in.Policy.WorkingHours.Open(in.Now)
	if open {
		return Reason{}, false
	}
	return Reason{Rule: "off-hours", Weight: in.Policy.Weight("off-hours"), Summary: "deploying " + why}, true
}
