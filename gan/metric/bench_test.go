package metric

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkMSSWD64 measures MS-SWD of 256 against 256 RGB images of 64x64 (levels 64, 32
// and 16 px; 32768 descriptors per set and level, 512 projections each).
func BenchmarkMSSWD64(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := smoothNoise(rng, 256, 3, 64, 2)
	y := smoothNoise(rng, 256, 3, 64, 2)
	for b.Loop() {
		if _, err := MSSWD(x, y, 7); err != nil {
			b.Fatal(err)
		}
	}
}
