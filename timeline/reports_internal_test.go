package timeline

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// percentileCont selects instead of sorting: on random data with ties it
// must give what interpolating in the sorted data gives.
func TestPercentileContMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 200; n++ {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(r.IntN(20)) // ties on purpose
		}
		sorted := slices.Sorted(slices.Values(v))
		for _, f := range []float64{0.5, 0.9} {
			pos := f * float64(n-1)
			lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
			want := sorted[lo] + (sorted[hi]-sorted[lo])*(pos-float64(lo))
			if got := percentileCont(slices.Clone(v), f); math.Abs(got-want) > 1e-9 {
				t.Fatalf("n=%d f=%v: got %v, want %v (data %v)", n, f, got, want, v)
			}
		}
	}
}
