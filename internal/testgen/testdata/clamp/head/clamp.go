// Package clamp bounds integers.
package clamp

// Clamp returns v limited to [lo, hi]; reversed bounds are swapped.
func Clamp(v, lo, hi int) int {
	if lo > hi {
		lo, hi = hi, lo
	}
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Wrap returns v wrapped into [0, n): negative values count back from n.
// A size below one has no values; the result is 0.
func Wrap(v, n int) int {
	if n < 1 {
		return 0
	}
	r := v % n
	if r < 0 {
		r += n
	}
	return r
}
