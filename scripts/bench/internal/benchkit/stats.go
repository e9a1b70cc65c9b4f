package benchkit

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Median is the median of xs without its NaNs (the mean of the middle two
// for an even count), or NaN for none.
func Median(xs []float64) float64 {
	s := slices.DeleteFunc(slices.Clone(xs), math.IsNaN)
	if len(s) == 0 {
		return math.NaN()
	}
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// List formats xs as "1.23 4.56" with the given format per value.
func List(format string, xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf(format, x)
	}
	return strings.Join(parts, " ")
}

// Ratio formats a/b with two decimals, or "n/a" when either is 0 or NaN.
func Ratio(a, b float64) string {
	if b == 0 || a == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", a/b)
}
