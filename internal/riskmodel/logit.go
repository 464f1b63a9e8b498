package riskmodel

import (
	"math"
)

// Model is a logistic regression over standardized features: inspectable
// (each feature's contribution is its weight times its standardized
// value), fast to train on a repository's history, and calibrated enough
// to rank. Why not trees or a network: a few dozen positives per
// repository would overfit them, and explanations must be words a person
// can check.
type Model struct {
	Mean, Scale []float64 // standardization
	Weights     []float64
	Bias        float64
	Positives   float64 // the (weighted) positives it learned from
}

// Sample is one labelled change: its features, whether it turned out bad,
// and how much that label counts (strong labels 1, weak ones less).
type Sample struct {
	X      []float64
	Y      bool
	Weight float64
}

// Train fits the model by Newton's method (iteratively reweighted least
// squares) with an L2 penalty lambda on the weights. Positives and
// negatives are balanced so that rare reverts are not drowned out.
func Train(samples []Sample, lambda float64) *Model {
	if len(samples) == 0 {
		return nil
	}
	d := len(samples[0].X)
	m := &Model{Mean: make([]float64, d), Scale: make([]float64, d), Weights: make([]float64, d)}
	var pos, neg float64
	for _, s := range samples {
		if s.Y {
			pos += s.Weight
		} else {
			neg += s.Weight
		}
	}
	m.Positives = pos
	if pos == 0 || neg == 0 {
		return nil
	}
	standardize(m, samples)
	// Class weights: each class counts half in total.
	wp, wn := 0.5*(pos+neg)/pos, 0.5*(pos+neg)/neg
	beta := make([]float64, d+1) // the bias last
	for iter := 0; iter < 12; iter++ {
		h, g := m.gradient(samples, beta, wp, wn)
		for i := 0; i < d; i++ { // the penalty, not on the bias
			g[i] -= lambda * beta[i]
			h[i*(d+1)+i] += lambda
		}
		h[d*(d+1)+d] += 1e-9
		step, ok := solve(h, g, d+1)
		if !ok {
			break
		}
		change := 0.0
		for i := range beta {
			beta[i] += step[i]
			change = math.Max(change, math.Abs(step[i]))
		}
		if change < 1e-6 {
			break
		}
	}
	copy(m.Weights, beta[:d])
	m.Bias = beta[d]
	return m
}

// gradient is the weighted log-likelihood's gradient g and Hessian h
// (negated, symmetric, (d+1)², the bias last) at beta, with wp and wn the
// class weights.
func (m *Model) gradient(samples []Sample, beta []float64, wp, wn float64) (h, g []float64) {
	d := len(beta) - 1
	h, g = make([]float64, (d+1)*(d+1)), make([]float64, d+1)
	z := make([]float64, d)
	at := func(i int) float64 { // the bias's input is 1
		if i < d {
			return z[i]
		}
		return 1
	}
	for _, s := range samples {
		m.standard(s.X, z)
		p := sigmoid(dot(beta[:d], z) + beta[d])
		w, y := s.Weight*wn, 0.0
		if s.Y {
			w, y = s.Weight*wp, 1
		}
		r, c := w*(y-p), w*p*(1-p)
		for i := 0; i <= d; i++ {
			zi := at(i)
			g[i] += r * zi
			if zi == 0 {
				continue
			}
			row := h[i*(d+1):]
			for j := 0; j <= i; j++ {
				row[j] += c * zi * at(j)
			}
		}
	}
	for i := 0; i <= d; i++ {
		for j := 0; j < i; j++ {
			h[j*(d+1)+i] = h[i*(d+1)+j]
		}
	}
	return h, g
}

// Predict is the model's probability-like score for a change.
func (m *Model) Predict(x []float64) float64 {
	z := make([]float64, len(x))
	m.standard(x, z)
	return sigmoid(dot(m.Weights, z) + m.Bias)
}

// Contributions are each feature's share of the change's log-odds,
// against an average change.
func (m *Model) Contributions(x []float64) []float64 {
	z := make([]float64, len(x))
	m.standard(x, z)
	out := make([]float64, len(x))
	for i := range z {
		out[i] = m.Weights[i] * z[i]
	}
	return out
}

func standardize(m *Model, samples []Sample) {
	d := len(m.Mean)
	n := float64(len(samples))
	for _, s := range samples {
		for i := 0; i < d; i++ {
			m.Mean[i] += s.X[i] / n
		}
	}
	for _, s := range samples {
		for i := 0; i < d; i++ {
			dx := s.X[i] - m.Mean[i]
			m.Scale[i] += dx * dx / n
		}
	}
	for i := range m.Scale {
		m.Scale[i] = math.Sqrt(m.Scale[i])
	}
}

func (m *Model) standard(x, z []float64) {
	for i := range x {
		if m.Scale[i] < 1e-9 {
			z[i] = 0 // constant in training: it tells nothing
			continue
		}
		z[i] = (x[i] - m.Mean[i]) / m.Scale[i]
	}
}

func sigmoid(t float64) float64 { return 1 / (1 + math.Exp(-t)) }

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// solve solves h·x = g (h symmetric positive definite) by Cholesky.
func solve(h, g []float64, n int) ([]float64, bool) {
	l := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := h[i*n+j]
			for k := 0; k < j; k++ {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s <= 0 {
					return nil, false
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		s := g[i]
		for k := 0; k < i; k++ {
			s -= l[i*n+k] * y[k]
		}
		y[i] = s / l[i*n+i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * x[k]
		}
		x[i] = s / l[i*n+i]
	}
	return x, true
}
