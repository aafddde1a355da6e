package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSorter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	special := []float32{0, float32(math.Copysign(0, -1)), 1, -1, math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), 1e-20, -3e20}
	gauss := make([]float32, 5000)
	for i := range gauss {
		gauss[i] = float32(rng.NormFloat64() * math.Exp(8*rng.Float64()-4))
	}
	dups := make([]float32, 3000)
	for i := range dups {
		dups[i] = float32(rng.IntN(7) - 3)
	}
	tests := []struct {
		name string
		v    []float32
	}{
		{"empty", nil},
		{"one", []float32{2.5}},
		{"two", []float32{3, -4}},
		{"special", special},
		{"gauss", gauss},
		{"duplicates", dups},
	}
	var s sorter
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := slices.Clone(tt.v)
			slices.Sort(want)
			keys := s.sortedKeys(tt.v)
			if len(keys) != len(want) {
				t.Fatalf("got %d keys, want %d", len(keys), len(want))
			}
			for i, k := range keys {
				if got := keyFloat(k); got != want[i] {
					t.Fatalf("element %d = %v, want %v", i, got, want[i])
				}
			}
		})
	}
}
