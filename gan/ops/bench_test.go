package ops

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
)

// convBenchGraph builds y = Conv3x3(x, W, b) and the gradients of sum(y*r) in x, W and b: one
// forward and one backward pass of a conv layer, as in training.
func convBenchGraph(b *testing.B, n, cin, cout, hw int, circular bool) (G.VM, float64) {
	rng := rand.New(rand.NewSource(1))
	g := G.NewGraph()
	arena := NewArena()
	bl := NewBuilder(arena)
	x := inputNode(g, "x", randTensor(rng, n, cin, hw, hw))
	w := inputNode(g, "w", randTensor(rng, cout, cin, 3, 3))
	bias := inputNode(g, "b", randTensor(rng, cout))
	r := inputNode(g, "r", randTensor(rng, n, cout, hw, hw))
	y := bl.Conv(x, w, bias, ConvSpec{Pad: 1, Circular: circular, Gain: 1.41, LeakyReLU: true})
	cost := bl.add(apply(arena, bl.pool, dotDef(), y, r))
	if bl.Err() != nil {
		b.Fatal(bl.Err())
	}
	grads, err := G.Grad(cost, x, w, bias)
	if err != nil {
		b.Fatal(err)
	}
	arena.Plan(g, append(grads, cost)...)
	flop := 3 * 2 * float64(n*cout*cin*9*hw*hw)
	return G.NewTapeMachine(g), flop
}

func benchConv(b *testing.B, n, cin, cout, hw int, circular bool) {
	m, flop := convBenchGraph(b, n, cin, cout, hw, circular)
	defer m.Close()
	run := func() {
		m.Reset()
		if err := m.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
	// allocate the arena's buffers and the workers' scratch (which worker takes which chunk
	// varies from run to run, so a few runs are needed before every scratch buffer has grown)
	for i := 0; i < 5; i++ {
		run()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(flop*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConv3x3B16C64S32 is one 3x3 conv layer, batch 16, 64->64 channels, 32x32, forward
// and backward (data and weight gradients), zero padding, through the gorgonia tape machine.
func BenchmarkConv3x3B16C64S32(b *testing.B) { benchConv(b, 16, 64, 64, 32, false) }

// BenchmarkConv3x3B16C64S32Circular is the same with circular padding.
func BenchmarkConv3x3B16C64S32Circular(b *testing.B) { benchConv(b, 16, 64, 64, 32, true) }

// BenchmarkConv3x3B16C32S64 is a 64 px layer of the default generator (32 channels).
func BenchmarkConv3x3B16C32S64(b *testing.B) { benchConv(b, 16, 32, 32, 64, true) }

// BenchmarkConv3x3B16C128S8 is an 8 px layer (128 channels).
func BenchmarkConv3x3B16C128S8(b *testing.B) { benchConv(b, 16, 128, 128, 8, false) }

// BenchmarkSgemmConvShape is OpenBLAS sgemm on the matrix product of the conv benchmark's
// forward pass as one product (64 x 576 times 576 x 16*32*32), with the work split over the
// pool's workers exactly as the convolutions split theirs.
func BenchmarkSgemmConvShape(b *testing.B) {
	const m, k, n = 64, 576, 16 * 32 * 32
	rng := rand.New(rand.NewSource(1))
	a := randTensor(rng, m, k).Data().([]float32)
	bb := randTensor(rng, k, n).Data().([]float32)
	c := make([]float32, m*n)
	p := DefaultPool()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p.Parallel(n/1024, n/1024, func(_, _, lo, hi int) {
			for j := lo; j < hi; j++ {
				sgemm(false, false, m, 1024, k, 1, a, k, bb[j*1024:], n, 0, c[j*1024:], n)
			}
		})
	}
	b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
