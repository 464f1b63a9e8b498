package riskmodel

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"
)

// stateVersion changes when the feature vector or the state's shape does:
// a state of another version is dropped and the history re-learned.
const stateVersion = 1

// maxPending bounds the changes kept for training: every labelled one and
// the most recent others (older ones say little about today).
const maxPending = 6000

// ErrStateVersion: the stored state was made by another version of the
// model; start afresh (backfill again).
var ErrStateVersion = fmt.Errorf("risk model state of another version")

type state struct {
	Version   int                  `json:"v"`
	Files     map[string]fileSnap  `json:"files"`
	Authors   map[string]authorSnp `json:"authors"`
	Recent    []int64              `json:"recent"`
	Model     *Model               `json:"model,omitempty"`
	Pending   []pendingSnap        `json:"pending"`
	Since     int                  `json:"since"`
	Observed  int                  `json:"observed"`
	Models    []float64            `json:"models"`
	Rules     []float64            `json:"rules"`
	Positives float64              `json:"positives"`
}

type fileSnap struct {
	Changes int     `json:"c"`
	First   int64   `json:"f"`
	Last    int64   `json:"l"`
	Reverts []int64 `json:"r,omitempty"`
	Fixes   []int64 `json:"x,omitempty"`
}

type authorSnp struct {
	Changes int            `json:"c"`
	BySub   map[string]int `json:"s"`
}

type pendingSnap struct {
	ID       string    `json:"id"`
	X        []float64 `json:"x"`
	At       int64     `json:"at"`
	StrongAt int64     `json:"s,omitempty"`
	WeakAt   int64     `json:"w,omitempty"`
}

// MarshalBinary is the learner's whole state (what the history taught,
// the labelled changes, the model), gzipped JSON: stored per repository.
func (l *Learner) MarshalBinary() ([]byte, error) {
	s := state{Version: stateVersion, Files: map[string]fileSnap{}, Authors: map[string]authorSnp{}, Model: l.model,
		Since: l.since, Observed: l.observed, Models: l.models.fifo, Rules: l.rules.fifo, Positives: l.positives}
	for p, f := range l.Tracker.files {
		s.Files[p] = fileSnap{Changes: f.changes, First: unix(f.first), Last: unix(f.last), Reverts: unixes(f.reverts), Fixes: unixes(f.fixes)}
	}
	for a, x := range l.Tracker.authors {
		s.Authors[a] = authorSnp{Changes: x.changes, BySub: x.bySub}
	}
	s.Recent = unixes(l.Tracker.recent)
	for _, id := range l.order {
		p := l.pending[id]
		s.Pending = append(s.Pending, pendingSnap{ID: id, X: rounded(p.x), At: unix(p.at), StrongAt: unix(p.strongAt), WeakAt: unix(p.weakAt)})
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(s); err != nil {
		return nil, fmt.Errorf("encode risk model state: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress risk model state: %w", err)
	}
	return b.Bytes(), nil
}

// LoadLearner restores a learner MarshalBinary saved. At most maxBytes of
// JSON are read.
func LoadLearner(b []byte, cfg Config, maxBytes int64) (*Learner, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("risk model state: %w", err)
	}
	var s state
	if err := json.NewDecoder(io.LimitReader(zr, maxBytes)).Decode(&s); err != nil {
		return nil, fmt.Errorf("risk model state: %w", err)
	}
	if s.Version != stateVersion || (s.Model != nil && len(s.Model.Weights) != len(Names)) {
		return nil, ErrStateVersion
	}
	l := NewLearner(cfg)
	l.model, l.since, l.observed, l.positives = s.Model, s.Since, s.Observed, s.Positives
	for _, v := range s.Models {
		l.models.add(v)
	}
	for _, v := range s.Rules {
		l.rules.add(v)
	}
	for p, f := range s.Files {
		l.Tracker.files[p] = &fileState{changes: f.Changes, first: at(f.First), last: at(f.Last), reverts: ats(f.Reverts), fixes: ats(f.Fixes)}
	}
	for a, x := range s.Authors {
		l.Tracker.authors[a] = &authorState{changes: x.Changes, bySub: x.BySub}
	}
	l.Tracker.recent = ats(s.Recent)
	for _, p := range s.Pending {
		if len(p.X) != len(Names) {
			return nil, ErrStateVersion
		}
		l.pending[p.ID] = &pending{x: p.X, at: at(p.At), strongAt: at(p.StrongAt), weakAt: at(p.WeakAt)}
		l.order = append(l.order, p.ID)
	}
	return l, nil
}

// prune keeps every labelled change and the newest others, up to
// maxPending in all.
func (l *Learner) prune() {
	if len(l.order) <= maxPending {
		return
	}
	drop := len(l.order) - maxPending
	kept := l.order[:0]
	for _, id := range l.order {
		p := l.pending[id]
		if drop > 0 && p.strongAt.IsZero() && p.weakAt.IsZero() {
			delete(l.pending, id)
			drop--
			continue
		}
		kept = append(kept, id)
	}
	l.order = kept
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func at(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}

func unixes(ts []time.Time) []int64 {
	out := make([]int64, len(ts))
	for i, t := range ts {
		out[i] = unix(t)
	}
	return out
}

func ats(s []int64) []time.Time {
	out := make([]time.Time, len(s))
	for i, v := range s {
		out[i] = at(v)
	}
	return out
}

// rounded keeps four decimals: the state compresses, the model does not
// notice.
func rounded(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = math.Round(v*1e4) / 1e4
	}
	return out
}
