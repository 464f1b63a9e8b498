package rollout

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMannWhitneyKnownValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		x, y []float64
		u, p float64
	}{
		// n1 = n2 = 3: the 20 orderings give U = 0…9 with counts 1,1,2,3,3,3,3,2,1,1.
		{"x all larger", []float64{4, 5, 6}, []float64{1, 2, 3}, 9, 1.0 / 20},
		{"x all smaller", []float64{1, 2, 3}, []float64{4, 5, 6}, 0, 1},
		{"one swap", []float64{3, 5, 6}, []float64{1, 2, 4}, 8, 2.0 / 20},
		{"two below", []float64{2, 5, 6}, []float64{1, 3, 4}, 7, 4.0 / 20},
		// n1 = 4, n2 = 5, x all larger: 1 / C(9,4) = 1/126.
		{"4 vs 5 separated", []float64{10, 11, 12, 13}, []float64{1, 2, 3, 4, 5}, 20, 1.0 / 126},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, p := MannWhitney(tc.x, tc.y)
			if u != tc.u || math.Abs(p-tc.p) > 1e-12 {
				t.Fatalf("U %g p %g, want U %g p %g", u, p, tc.u, tc.p)
			}
		})
	}
}

// TestMannWhitneyExactMatchesEnumeration: the recurrence's p-values equal
// counting every split of the ranks (the definition), for all small sizes.
func TestMannWhitneyExactMatchesEnumeration(t *testing.T) {
	for n1 := 1; n1 <= 6; n1++ {
		for n2 := 1; n2 <= 6; n2++ {
			counts := enumerate(n1, n2)
			total := 0.0
			for _, c := range counts {
				total += c
			}
			for u := 0; u <= n1*n2; u++ {
				want := 0.0
				for k := u; k <= n1*n2; k++ {
					want += counts[k]
				}
				if got := exactUpper(n1, n2, u); math.Abs(got-want/total) > 1e-12 {
					t.Fatalf("n1=%d n2=%d U≥%d: %g, enumeration %g", n1, n2, u, got, want/total)
				}
			}
		}
	}
}

// enumerate counts U over every choice of which of the n1+n2 ranks are x's.
func enumerate(n1, n2 int) []float64 {
	counts := make([]float64, n1*n2+1)
	n := n1 + n2
	for mask := 0; mask < 1<<n; mask++ {
		if popcount(mask) != n1 {
			continue
		}
		rank := 0
		for i := 0; i < n; i++ {
			if mask&(1<<i) != 0 {
				rank += i + 1
			}
		}
		counts[rank-n1*(n1+1)/2]++
	}
	return counts
}

func popcount(x int) int {
	n := 0
	for ; x > 0; x &= x - 1 {
		n++
	}
	return n
}

// TestMannWhitneyProperties: with samples from one distribution p-values
// are spread (about 5% below 0.05); a shift makes them small; the normal
// approximation agrees with the exact value on mid-size samples.
func TestMannWhitneyProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	sample := func(n int, shift float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = r.NormFloat64() + shift
		}
		return out
	}
	low := 0
	for range 2000 {
		if _, p := MannWhitney(sample(15, 0), sample(15, 0)); p < 0.05 {
			low++
		}
	}
	if frac := float64(low) / 2000; frac < 0.03 || frac > 0.07 {
		t.Fatalf("under the null %.3f of p-values were below 0.05", frac)
	}
	if _, p := MannWhitney(sample(30, 1.5), sample(30, 0)); p > 0.001 {
		t.Fatalf("a 1.5σ shift gave p %g", p)
	}
	x, y := sample(20, 0.4), sample(20, 0)
	_, exact := MannWhitney(x, y)
	ux, _ := MannWhitney(x, y)
	n := 40.0
	z := (ux - 200 - 0.5) / math.Sqrt(400.0/12*(n+1))
	if approx := 0.5 * math.Erfc(z/math.Sqrt2); math.Abs(approx-exact) > 0.01 {
		t.Fatalf("normal approximation %g vs exact %g", approx, exact)
	}
}
