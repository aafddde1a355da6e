package ops

import (
	"math/rand"
	"testing"
)

// TestIm2colSame checks the fast same-size im2col against the general one on every chunking,
// padding kind and small size (including images narrower than the kernel's reach).
func TestIm2colSame(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, circ := range []bool{false, true} {
		for _, k := range []int{1, 3, 5} {
			for _, hw := range [][2]int{{1, 1}, {2, 3}, {4, 4}, {5, 2}, {7, 9}, {40, 33}} {
				p := (k - 1) / 2
				if hw[1] <= p {
					continue
				}
				g, err := newConvGeom(3, 2, hw[0], hw[1], 4, k, p, circ)
				if err != nil {
					t.Fatal(err)
				}
				x := make([]float32, 3*2*hw[0]*hw[1])
				for i := range x {
					x[i] = rng.Float32()
				}
				n, at := g.chunks()
				for i := 0; i < n; i++ {
					c := at(i)
					want := make([]float32, g.kc()*c.cols(g.ow))
					got := make([]float32, len(want))
					for j := range got {
						got[j] = -7 // stale scratch contents must all be overwritten
					}
					g.im2colGeneral(x, c, want)
					g.im2colSame(x, c, got)
					for j := range want {
						if got[j] != want[j] {
							t.Fatalf("circ %t k %d size %v chunk %+v: element %d is %g, want %g", circ, k, hw, c, j, got[j], want[j])
						}
					}
				}
			}
		}
	}
}
