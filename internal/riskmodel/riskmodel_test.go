package riskmodel

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// aucOf is the probability a positive outranks a negative.
func aucOf(scores []float64, y []bool) float64 {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	var rank, pos float64
	for r, i := range idx {
		if y[i] {
			rank += float64(r + 1)
			pos++
		}
	}
	neg := float64(len(y)) - pos
	return (rank - pos*(pos+1)/2) / (pos * neg)
}

func synthetic(r *rand.Rand, n int, signal float64) ([]Sample, []bool) {
	var out []Sample
	var y []bool
	for range n {
		x := []float64{r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), 7} // the last is constant
		bad := r.Float64() < 1/(1+math.Exp(-(signal*x[0]-3)))
		out = append(out, Sample{X: x, Y: bad, Weight: 1})
		y = append(y, bad)
	}
	return out, y
}

// TestTrainRecoversPlantedSignal: on synthetic data where one feature
// drives rare failures the model finds it (positive weight, high AUC on
// data it did not see); without a signal it ranks no better than chance.
func TestTrainRecoversPlantedSignal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		signal   float64
		min, max float64
	}{{2.5, 0.85, 1}, {0, 0.4, 0.6}} {
		train, _ := synthetic(r, 4000, tt.signal)
		m := Train(train, 3)
		if m == nil {
			t.Fatal("no model")
		}
		test, y := synthetic(r, 4000, tt.signal)
		scores := make([]float64, len(test))
		for i, s := range test {
			scores[i] = m.Predict(s.X)
		}
		a := aucOf(scores, y)
		if a < tt.min || a > tt.max {
			t.Errorf("signal %.1f: held-out AUC %.3f, want %.2f–%.2f (weights %v)", tt.signal, a, tt.min, tt.max, m.Weights)
		}
		if tt.signal > 0 && (m.Weights[0] <= 0 || math.Abs(m.Weights[0]) < 3*math.Abs(m.Weights[1])) {
			t.Errorf("the planted feature's weight %v", m.Weights)
		}
		if m.Weights[3] != 0 {
			t.Errorf("a constant feature got weight %v", m.Weights[3])
		}
	}
}

// TestLearnerNeverPeeks: a label is used only from the time it became
// known. Changes are scored before the revert that defines their label
// lands; until then no model can know any change was bad.
func TestLearnerNeverPeeks(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLearner(Config{Retrain: 1, Maturity: time.Hour, MinPositives: 0.5, FullPositives: 1})
	big := Change{Subject: "feat: big", Files: []File{{Path: "billing/charge.go", Added: 900}}}
	small := Change{Subject: "docs", Files: []File{{Path: "README.md", Added: 1}}}
	reveal := start.Add(100 * time.Hour)
	for i := range 200 {
		c := small
		if i%10 == 0 {
			c = big
		}
		c.At = start.Add(time.Duration(i) * time.Hour)
		if c.At.Equal(reveal) {
			for j := 0; j < i; j += 10 { // every big change so far was reverted, now
				l.Label(fmt.Sprint(j), reveal, true, []string{"billing/charge.go"})
			}
		}
		s := l.Score(c)
		if c.At.Before(reveal) && s.Model != 0 {
			t.Fatalf("change %d at %v scored by a model before any label was known", i, c.At)
		}
		l.Observe(fmt.Sprint(i), c, s)
	}
	s := l.Score(Change{At: start.Add(300 * time.Hour), Subject: "feat: big", Files: []File{{Path: "billing/charge.go", Added: 900}}})
	if s.Model == 0 || s.ModelShare != 1 || s.Score < 80 {
		t.Fatalf("after the reverts were known: %+v", s)
	}
}

// TestLabelsInTheFutureWait: a label recorded early but dated later (a
// caller that knows the future) is not used before its date.
func TestLabelsInTheFutureWait(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLearner(Config{Retrain: 1, Maturity: time.Hour, MinPositives: 0.5, FullPositives: 1})
	for i := range 100 {
		c := Change{At: start.Add(time.Duration(i) * time.Hour), Subject: "x", Files: []File{{Path: "a.go", Added: i}}}
		s := l.Score(c)
		if s.Model != 0 {
			t.Fatalf("a label dated later was used at change %d", i)
		}
		l.Observe(fmt.Sprint(i), c, s)
		if i == 0 {
			l.Label("0", start.Add(1000*time.Hour), true, nil)
		}
	}
	s := l.Score(Change{At: start.Add(2000 * time.Hour)})
	l.Observe("late", Change{At: start.Add(2000 * time.Hour)}, s)
	if l.model == nil {
		t.Fatal("the label was not used once its time came")
	}
}

// TestStateRoundTrip: a learner saved and restored scores, explains and
// learns exactly as the original; a retried Observe counts once; the kept
// changes stay bounded.
func TestStateRoundTrip(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLearner(Config{Retrain: 50, Maturity: time.Hour, MinPositives: 0.5, FullPositives: 1})
	for i := range maxPending + 500 {
		c := Change{At: start.Add(time.Duration(i) * time.Minute), Subject: "feat: x", Author: "ann",
			Files: []File{{Path: fmt.Sprintf("svc%d/a.go", i%7), Added: i % 50}}}
		if i%7 == 3 {
			c.Files[0].Added = 800
		}
		s := l.Score(c)
		l.Observe(fmt.Sprint(i), c, s)
		l.Observe(fmt.Sprint(i), c, s) // a retried job
		if i%7 == 3 && i < 2000 {
			l.Label(fmt.Sprint(i), c.At.Add(time.Minute), true, []string{c.Files[0].Path})
		}
	}
	if l.Observed() != maxPending+500 || len(l.order) != maxPending {
		t.Fatalf("observed %d, kept %d", l.Observed(), len(l.order))
	}
	b, err := l.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("state: %d KiB for %d kept changes", len(b)/1024, len(l.order))
	r, err := LoadLearner(b, Config{Retrain: 50, Maturity: time.Hour, MinPositives: 0.5, FullPositives: 1}, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	c := Change{At: start.Add(time.Duration(maxPending+600) * time.Minute), Subject: "feat: y", Author: "bob",
		Files: []File{{Path: "svc3/a.go", Added: 800}}}
	a, z := l.Score(c), r.Score(c)
	if math.Abs(a.Score-z.Score) > 0.5 || math.Abs(a.Model-z.Model) > 1e-3 || r.Observed() != l.Observed() {
		t.Fatalf("restored scores %+v, original %+v", z.Score, a.Score)
	}
	why := r.Explain(c, z, 3)
	if len(why) == 0 || why[0].Summary == "" {
		t.Fatalf("no reasons: %+v (contributions %v)", why, z.Contributions)
	}
	t.Logf("reasons: %+v", why)
	if _, err := LoadLearner([]byte("not gzip"), Config{}, 1<<20); err == nil {
		t.Fatal("garbage loaded")
	}
}

// BenchmarkLoadScoreExplain: what a pull request's assessment costs on
// the server — restore a full learner (6,000 kept changes), score and
// explain one change.
func BenchmarkLoadScoreExplain(b *testing.B) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := NewLearner(Config{})
	for i := range maxPending {
		c := Change{At: start.Add(time.Duration(i) * time.Hour), Subject: "feat: x", Author: fmt.Sprint("a", i%13),
			Files: []File{{Path: fmt.Sprintf("svc%d/a%d.go", i%7, i%50), Added: i % 90}}}
		s := l.Score(c)
		l.Observe(fmt.Sprint(i), c, s)
		if i%23 == 0 {
			l.Label(fmt.Sprint(i), c.At.Add(time.Hour), true, []string{c.Files[0].Path})
		}
	}
	state, err := l.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	c := Change{At: start.Add(time.Duration(maxPending+1) * time.Hour), Subject: "feat: y", Files: []File{{Path: "svc3/a3.go", Added: 80}}}
	b.ResetTimer()
	for range b.N {
		r, err := LoadLearner(state, Config{}, 256<<20)
		if err != nil {
			b.Fatal(err)
		}
		s := r.Score(c)
		_ = r.Explain(c, s, 3)
	}
	b.ReportMetric(float64(len(state))/1024, "KiB/state")
}
