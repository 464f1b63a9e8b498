package rollout

import (
	"math"
	"sort"
)

// MannWhitney tests whether x tends to be larger than y (one-sided): it
// returns the U statistic of x and the p-value of seeing a U at least that
// large if both came from one distribution. Exact for small samples
// without ties (n1·n2 ≤ 400); otherwise the normal approximation with the
// tie correction and a continuity correction. Kayenta's canary judge uses
// the same test.
func MannWhitney(x, y []float64) (u, p float64) {
	n1, n2 := len(x), len(y)
	if n1 == 0 || n2 == 0 {
		return 0, 1
	}
	type obs struct {
		v     float64
		fromX bool
	}
	all := make([]obs, 0, n1+n2)
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v < all[j].v })
	var rx, tieTerm float64
	ties := false
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // average of ranks i+1 … j
		for k := i; k < j; k++ {
			if all[k].fromX {
				rx += rank
			}
		}
		if t := float64(j - i); t > 1 {
			ties, tieTerm = true, tieTerm+t*t*t-t
		}
		i = j
	}
	u = rx - float64(n1*(n1+1))/2
	if !ties && n1*n2 <= 400 {
		return u, exactUpper(n1, n2, int(math.Round(u)))
	}
	n := float64(n1 + n2)
	mu := float64(n1*n2) / 2
	sigma := math.Sqrt(float64(n1*n2) / 12 * ((n + 1) - tieTerm/(n*(n-1))))
	if sigma == 0 {
		return u, 1
	}
	z := (u - mu - 0.5) / sigma
	return u, 0.5 * math.Erfc(z/math.Sqrt2)
}

// exactUpper is P(U ≥ u) for sample sizes n1, n2 under the null: the
// number of orderings giving each U, counted by the usual recurrence
// (the largest observation is from x, adding n2 to U, or from y).
func exactUpper(n1, n2, u int) float64 {
	max := n1 * n2
	// counts[a][b][k]: orderings of a x's and b y's with U = k, rolled
	// over b to keep memory to two rows of (n2+1)·(max+1).
	prev := make([][]float64, n2+1)
	for b := range prev {
		prev[b] = make([]float64, max+1)
		prev[b][0] = 1 // a = 0: U = 0 whatever b
	}
	for a := 1; a <= n1; a++ {
		cur := make([][]float64, n2+1)
		for b := range cur {
			cur[b] = make([]float64, max+1)
			for k := 0; k <= max; k++ {
				if k-b >= 0 {
					cur[b][k] += prev[b][k-b] // largest is an x: it beats all b y's
				}
				if b > 0 {
					cur[b][k] += cur[b-1][k]
				}
			}
		}
		prev = cur
	}
	var total, upper float64
	for k, c := range prev[n2] {
		total += c
		if k >= u {
			upper += c
		}
	}
	return upper / total
}
