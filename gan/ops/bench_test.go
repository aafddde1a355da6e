package ops

import (
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
)

// convBenchGraph builds y = Conv3x3(x, W, b) and the gradients of sum(y*r) in x, W and b: one
// forward and one backward pass of a conv layer, as in training.
func convBenchGraph(b *testing.B, n, cin, cout, hw int, circular bool) (G.VM, float64) {
	return convBenchGraphUp(b, n, cin, cout, hw, circular, 0)
}

// convBenchGraphUp is convBenchGraph for a convolution of the 2x upsampled input (hw is the
// output side): fused (up 1) or as Upsample then Conv (up 2). The FLOP count is the plain
// convolution's in both, so the two GFLOP/s figures compare as speeds.
func convBenchGraphUp(b *testing.B, n, cin, cout, hw int, circular bool, up int) (G.VM, float64) {
	rng := rand.New(rand.NewSource(1))
	g := G.NewGraph()
	arena := NewArena()
	bl := NewBuilder(arena)
	in := hw
	if up > 0 {
		in = hw / 2
	}
	x := inputNode(g, "x", randTensor(rng, n, cin, in, in))
	w := inputNode(g, "w", randTensor(rng, cout, cin, 3, 3))
	bias := inputNode(g, "b", randTensor(rng, cout))
	r := inputNode(g, "r", randTensor(rng, n, cout, hw, hw))
	spec := ConvSpec{Pad: 1, Circular: circular, Gain: 1.41, LeakyReLU: true}
	var y *Node
	switch up {
	case 0:
		y = bl.Conv(x, w, bias, spec)
	case 1:
		spec.Upsample = true
		y = bl.Conv(x, w, bias, spec)
	default:
		y = bl.Conv(bl.Upsample(x), w, bias, spec)
	}
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
	benchConvUp(b, n, cin, cout, hw, circular, 0)
}

func benchConvUp(b *testing.B, n, cin, cout, hw int, circular bool, up int) {
	m, flop := convBenchGraphUp(b, n, cin, cout, hw, circular, up)
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

// BenchmarkUpConvB16C64to32S64 is the default generator's first 64 px layer: the 32 px features
// (64 channels) upsampled and convolved to 32 channels, forward and backward, as one fused op.
func BenchmarkUpConvB16C64to32S64(b *testing.B) { benchConvUp(b, 16, 64, 32, 64, true, 1) }

// BenchmarkUpConvB16C64to32S64Unfused is the same layer as Upsample followed by Conv.
func BenchmarkUpConvB16C64to32S64Unfused(b *testing.B) { benchConvUp(b, 16, 64, 32, 64, true, 2) }

// BenchmarkUpConvB16C128S16 is the 16 px layer (128 channels), fused.
func BenchmarkUpConvB16C128S16(b *testing.B) { benchConvUp(b, 16, 128, 128, 16, true, 1) }

// BenchmarkUpConvB16C128S16Unfused is the same layer as Upsample followed by Conv.
func BenchmarkUpConvB16C128S16Unfused(b *testing.B) { benchConvUp(b, 16, 128, 128, 16, true, 2) }

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
