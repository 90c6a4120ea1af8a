package bench

import (
	"math"
	"slices"
)

// percentile returns the q-th percentile (0..100) of xs by the
// nearest-rank method; xs need not be sorted. NaN for no samples.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(q / 100 * float64(len(s))))
	return s[min(max(rank-1, 0), len(s)-1)]
}
