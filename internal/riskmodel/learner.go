package riskmodel

import (
	"math"
	"sort"
	"time"
)

// Config tunes learning. One default for every repository.
type Config struct {
	// Retrain after this many changes (default 200): periodically, not per
	// change.
	Retrain int
	// Maturity is how old a change must be, with no trouble known, to
	// count as good (default 30 days): younger ones may still be reverted.
	Maturity time.Duration
	// WeakWeight is how much a weak label (a later fix touched its files)
	// counts against a strong one (a revert): default 0.3.
	WeakWeight float64
	// Lambda is the L2 penalty (default 3).
	Lambda float64
	// MinPositives (weighted) before the model has any say (default 8);
	// it has the whole say from FullPositives (default 40).
	MinPositives, FullPositives float64
	// Window is how many recent changes percentiles are taken over
	// (default 1000).
	Window int
}

func (c Config) withDefaults() Config {
	if c.Retrain == 0 {
		c.Retrain = 200
	}
	if c.Maturity == 0 {
		c.Maturity = 30 * 24 * time.Hour
	}
	if c.WeakWeight == 0 {
		c.WeakWeight = 0.3
	}
	if c.Lambda == 0 {
		c.Lambda = 3
	}
	if c.MinPositives == 0 {
		c.MinPositives = 8
	}
	if c.FullPositives == 0 {
		c.FullPositives = 40
	}
	if c.Window == 0 {
		c.Window = 1000
	}
	return c
}

type pending struct {
	x        []float64
	at       time.Time
	strongAt time.Time // when a revert revealed it (zero: not known)
	weakAt   time.Time // when a fix revealed it
}

// Learner scores changes in order and learns from the labels as they
// become known — never from the future: a change's label is used only
// from the time the revert or fix that defines it happened, and a change
// counts as good only once it is Maturity old.
type Learner struct {
	cfg       Config
	Tracker   *Tracker
	model     *Model
	pending   map[string]*pending
	order     []string
	since     int // changes since the last training
	observed  int // changes observed in all
	models    window
	rules     window
	positives float64
}

// NewLearner is a learner that knows nothing yet.
func NewLearner(cfg Config) *Learner {
	cfg = cfg.withDefaults()
	return &Learner{cfg: cfg, Tracker: NewTracker(), pending: map[string]*pending{}, models: window{max: cfg.Window},
		rules: window{max: cfg.Window}}
}

// Scored is a change's score.
type Scored struct {
	// Score (0–100) is how much riskier the change is than the
	// repository's recent ones: the model's percentile blended with the
	// rules' while labels are few, the rules' alone before.
	Score float64
	// Model is the model's own score (0 until it exists), ModelShare its
	// share of Score (0…1).
	Model, ModelShare float64
	// Contributions are each feature's push on the model's score
	// (log-odds; nil without a model).
	Contributions []float64
	Features      []float64
}

// Score scores a change under what is known now, without learning from
// it (Observe does).
func (l *Learner) Score(c Change) Scored {
	x := l.Tracker.Features(c)
	s := Scored{Features: x}
	rulePct := l.rules.percentile(c.RuleScore)
	s.Score = rulePct
	if l.model != nil {
		s.Model = l.model.Predict(x)
		s.Contributions = l.model.Contributions(x)
		s.ModelShare = math.Max(0, math.Min(1, (l.positives-l.cfg.MinPositives)/(l.cfg.FullPositives-l.cfg.MinPositives)))
		s.Score = s.ModelShare*l.models.percentile(s.Model) + (1-s.ModelShare)*rulePct
	}
	return s
}

// Observe learns from a change once scored: the history it adds, a
// sample to label later, and — every Retrain changes — a new model.
// Observing a change already kept does nothing (a retried job).
func (l *Learner) Observe(id string, c Change, s Scored) {
	if l.pending[id] != nil {
		return
	}
	l.Tracker.Observe(c)
	l.pending[id] = &pending{x: s.Features, at: c.At}
	l.order = append(l.order, id)
	l.observed++
	l.prune()
	l.rules.add(c.RuleScore)
	if l.model != nil {
		l.models.add(s.Model)
	}
	if l.since++; l.since >= l.cfg.Retrain {
		l.since = 0
		l.train(c.At)
	}
}

// Observed is how many changes the learner has seen: below a few
// hundred, percentiles of its scores mean little.
func (l *Learner) Observed() int { return l.observed }

// Known says whether change id was observed (and is still kept).
func (l *Learner) Known(id string) bool { return l.pending[id] != nil }

// Label records that change id turned out bad, revealed at at: strong
// for a revert, weak for a fix that followed. Its files' history learns
// it at the same time.
func (l *Learner) Label(id string, at time.Time, strong bool, paths []string) {
	if p := l.pending[id]; p != nil {
		if strong && (p.strongAt.IsZero() || at.Before(p.strongAt)) {
			p.strongAt = at
		}
		if !strong && (p.weakAt.IsZero() || at.Before(p.weakAt)) {
			p.weakAt = at
		}
	}
	l.Tracker.Trouble(paths, at, strong)
}

// maxNegatives bounds a training set: every known positive, and the most
// recent good changes up to this many (older ones say less about today).
const maxNegatives = 4000

// train fits a model on what is known at now.
func (l *Learner) train(now time.Time) {
	var samples []Sample
	negatives := 0
	for k := len(l.order) - 1; k >= 0; k-- { // newest first: the most recent negatives are kept
		p := l.pending[l.order[k]]
		switch {
		case !p.strongAt.IsZero() && !p.strongAt.After(now):
			samples = append(samples, Sample{X: p.x, Y: true, Weight: 1})
		case !p.weakAt.IsZero() && !p.weakAt.After(now):
			samples = append(samples, Sample{X: p.x, Y: true, Weight: l.cfg.WeakWeight})
		case now.Sub(p.at) >= l.cfg.Maturity && negatives < maxNegatives:
			negatives++
			samples = append(samples, Sample{X: p.x, Y: false, Weight: 1})
		}
	}
	m := Train(samples, l.cfg.Lambda)
	if m == nil {
		return
	}
	if l.model == nil {
		// The first model has no past scores to rank against: score the
		// recent window with it.
		for _, id := range l.order[max(0, len(l.order)-l.cfg.Window):] {
			l.models.add(m.Predict(l.pending[id].x))
		}
	}
	l.model, l.positives = m, m.Positives
}

// window keeps the last max values, sorted, for percentiles.
type window struct {
	max    int
	fifo   []float64
	sorted []float64
}

func (w *window) add(v float64) {
	w.fifo = append(w.fifo, v)
	i := sort.SearchFloat64s(w.sorted, v)
	w.sorted = append(w.sorted, 0)
	copy(w.sorted[i+1:], w.sorted[i:])
	w.sorted[i] = v
	if len(w.fifo) > w.max {
		old := w.fifo[0]
		w.fifo = w.fifo[1:]
		j := sort.SearchFloat64s(w.sorted, old)
		w.sorted = append(w.sorted[:j], w.sorted[j+1:]...)
	}
}

// percentile is the share (0–100) of the window below v, ties half.
func (w *window) percentile(v float64) float64 {
	if len(w.sorted) == 0 {
		return 50
	}
	lo := sort.SearchFloat64s(w.sorted, v)
	hi := sort.Search(len(w.sorted), func(i int) bool { return w.sorted[i] > v })
	return 100 * (float64(lo) + float64(hi-lo)/2) / float64(len(w.sorted))
}
