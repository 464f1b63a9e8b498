// Package calc is a fixture for ferry testgen's generators: functions a
// characterization test or a fuzz target can pin, and some they cannot.
package calc

import (
	"bytes"
	"errors"
	"strings"
	"time"
)

// Limit is the largest size Fits accepts.
const Limit = 10

// Clamp limits v to [lo, hi].
func Clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Grade is the letter of a score.
func Grade(score float64) string {
	switch {
	case score >= 90:
		return "A"
	case score >= 80:
		return "B"
	case score >= 70:
		return "C"
	}
	return "F"
}

// Reverse reverses s rune by rune.
func Reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// At is the byte of s at i; it panics out of range.
func At(s string, i int) byte { return s[i] }

// ParseLevel reads a log level.
func ParseLevel(s string) (int, error) {
	switch strings.ToLower(s) {
	case "debug":
		return 0, nil
	case "info":
		return 1, nil
	case "warn":
		return 2, nil
	}
	return -1, errors.New("unknown level " + s)
}

// Fits reports whether n is within Limit.
func Fits(n int) bool { return n <= Limit }

// Celsius is a temperature.
type Celsius float64

// Freezing reports whether water freezes at c.
func Freezing(c Celsius) bool { return c <= 0 }

// Half halves x.
func Half(x float32) float32 { return x / 2 }

// Log does nothing with s: a fuzz target can only call it.
func Log(s string) { _ = s }

// Nonce is different at every call: nothing to pin.
func Nonce() int64 { return time.Now().UnixNano() }

// Counter counts.
type Counter struct{ n int }

// Add is a method: not characterized.
func (c *Counter) Add(d int) int {
	c.n += d
	return c.n
}

// Point is a point.
type Point struct{ X, Y int }

// Norm1 takes a struct: not characterized.
func Norm1(p Point) int { return abs(p.X) + abs(p.Y) }

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// Max is generic: not characterized.
func Max[T int | float64](a, b T) T {
	if a > b {
		return a
	}
	return b
}

// Sum is variadic: not characterized.
func Sum(xs ...int) int {
	n := 0
	for _, x := range xs {
		n += x
	}
	return n
}

// Since takes an imported type: not characterized.
func Since(d time.Duration) bool { return d > time.Second }

// Count counts sep in b.
func Count(b []byte, sep byte) int { return bytes.Count(b, []byte{sep}) }

// Upper upper-cases b.
func Upper(b []byte) []byte { return bytes.ToUpper(b) }
