package metric

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas/gonum"
)

// Parameters of the reference implementation (class API in sliced_wasserstein.py).
const (
	minRes         = 16                         // coarsest pyramid level
	patchSize      = 7                          // nhood_size
	patchesPerImg  = 128                        // nhoods_per_image
	descDim        = 3 * patchSize * patchSize  // descriptor length (147)
	dirRepeats     = 4                          // dir_repeats
	dirsPerRepeat  = 128                        // dirs_per_repeat
	numDirections  = dirRepeats * dirsPerRepeat // projections per level (512)
	projBlock      = 64                         // descriptors per BLAS rank-1 update
	patchPixels    = patchSize * patchSize      // values per colour channel of a patch
	reportingScale = 1e3                        // the paper reports SWD x 10^3
)

// Level is the MS-SWD at one level of the Laplacian pyramid.
type Level struct {
	Res int     // side length of the level in pixels
	SWD float64 // sliced Wasserstein distance, multiplied by 1e3
}

// Result holds the MS-SWD of two image sets at every pyramid level.
type Result struct {
	Levels []Level // finest (full resolution) first
	Avg    float64 // mean of the levels' SWD, also x1e3
}

// String formats r as "MS-SWD x1e3: 64px 12.3, 32px 8.1, 16px 5.0, avg 8.5".
func (r Result) String() string {
	var sb strings.Builder
	sb.WriteString("MS-SWD x1e3:")
	for _, l := range r.Levels {
		fmt.Fprintf(&sb, " %dpx %.1f,", l.Res, l.SWD)
	}
	fmt.Fprintf(&sb, " avg %.1f", r.Avg)
	return sb.String()
}

// MSSWD computes the multi-scale sliced Wasserstein distance between image sets a and b
// (typically real and generated), following Karras et al. 2018 and their reference code:
//
//   - values are mapped from [-1, 1] to [0, 255] (v*127.5 + 127.5, not rounded);
//   - each image gets a Laplacian pyramid from its resolution R down to 16 px (a single
//     level if R is 8), binomial 5x5 kernel with mirrored borders;
//   - per level, 128 random 7x7x3 patches per image become 147-dim descriptors, which are
//     normalised per colour channel to zero mean and unit standard deviation over all of
//     one set's descriptors at that level (a channel with zero deviation is only centred);
//   - the level's distance is the sliced Wasserstein distance along 4x128 random unit
//     directions: project both sets, sort, average |sorted a - sorted b|; times 1e3.
//
// Both sets must be square with the same power-of-two resolution R >= 8; C may differ
// (grayscale counts as RGB with equal channels). The sliced Wasserstein distance needs
// equally many descriptors on both sides, so if a.N != b.N only the first min(a.N, b.N)
// images of each set are used.
//
// The result is deterministic for a given seed: patch positions and directions come
// from a PCG generator seeded with seed and the level index. Unlike the reference, which
// draws patch positions independently for each set, image i of a and image i of b share
// their patch positions. This makes the distance of a set to itself exactly 0 and the
// result exactly symmetric in a and b. For independent sets of textures (stationary
// content) it does not change the expected distance; it only couples the sampling noise
// of the two sides.
//
// The cost grows with N times the number of levels and is dominated by the 512
// projections of N*128 descriptors per set and level and by sorting them: 256 against
// 256 images of 64x64 take about 2 s of CPU time on a current x86 core. The direction
// chunks of a level are spread over up to GOMAXPROCS goroutines, which shortens the wall
// time when cores are free without changing the result. Working memory is about
// N*(32*R*R + 150000 + 130000 per goroutine) bytes: some 140 MB for that example.
func MSSWD(a, b Images, seed uint64) (Result, error) {
	if err := a.Validate(); err != nil {
		return Result{}, fmt.Errorf("metric: MS-SWD, set a: %w", err)
	}
	if err := b.Validate(); err != nil {
		return Result{}, fmt.Errorf("metric: MS-SWD, set b: %w", err)
	}
	res, err := resolution(a)
	if err != nil {
		return Result{}, fmt.Errorf("metric: MS-SWD, set a: %w", err)
	}
	if resB, err := resolution(b); err != nil {
		return Result{}, fmt.Errorf("metric: MS-SWD, set b: %w", err)
	} else if resB != res {
		return Result{}, fmt.Errorf("metric: MS-SWD: set a is %dx%d but set b is %dx%d", res, res, resB, resB)
	}
	n := min(a.N, b.N)
	a, b = a.head(n), b.head(n)

	numLevels := levelCount(res)
	var pyrA, pyrB [][]float32
	var wg sync.WaitGroup
	wg.Go(func() { pyrA = pyramids(a, numLevels) })
	pyrB = pyramids(b, numLevels)
	wg.Wait()
	r := Result{Levels: make([]Level, numLevels)}
	for l := range numLevels {
		size := res >> l
		rng := rand.New(rand.NewPCG(seed, uint64(l)))
		pos := patchPositions(rng, n, size)
		da := descriptors(pyrA[l], a.C, size, pos)
		db := descriptors(pyrB[l], b.C, size, pos)
		pyrA[l], pyrB[l] = nil, nil
		normalize(da)
		normalize(db)
		dirs := directions(rng, numDirections, descDim)
		d := sliced(da, db, descDim, dirs) * reportingScale
		r.Levels[l] = Level{Res: size, SWD: d}
		r.Avg += d
	}
	r.Avg /= float64(numLevels)
	return r, nil
}

// resolution returns the side length of the square images in im, or an error if they
// are not square with a power-of-two side of at least 8.
func resolution(im Images) (int, error) {
	if im.H != im.W {
		return 0, fmt.Errorf("images are %dx%d (HxW), MS-SWD needs square images", im.H, im.W)
	}
	if im.H < 8 || bits.OnesCount(uint(im.H)) != 1 {
		return 0, fmt.Errorf("resolution %d is not a power of two >= 8", im.H)
	}
	return im.H, nil
}

// levelCount is the number of pyramid levels for resolution res: res, res/2, ..., 16, or
// a single level below 16 px.
func levelCount(res int) int {
	n := 1
	for r := res; r > minRes; r /= 2 {
		n++
	}
	return n
}

// pyramids returns the Laplacian pyramids of all images of im, level by level: level l
// holds N*C planes of (R>>l)^2 values in [0, 255] scale.
func pyramids(im Images, numLevels int) [][]float32 {
	res := im.H
	out := make([][]float32, numLevels)
	for l := range out {
		s := res >> l
		out[l] = make([]float32, im.N*im.C*s*s)
	}
	plane := make([]float64, res*res)
	for p := range im.N * im.C {
		for i, v := range im.Data[p*res*res : (p+1)*res*res] {
			plane[i] = float64(v)*127.5 + 127.5
		}
		for l, lev := range laplacian(plane, res, numLevels) {
			dst := out[l][p*len(lev) : (p+1)*len(lev)]
			for i, v := range lev {
				dst[i] = float32(v)
			}
		}
	}
	return out
}

// patchPositions draws the top-left corners (y, x) of patchesPerImg patches per image,
// uniformly among the positions where a patch fits inside a size x size level (the
// reference draws the centre from [3, size-4]).
func patchPositions(rng *rand.Rand, numImages, size int) []int32 {
	pos := make([]int32, 2*numImages*patchesPerImg)
	for i := range pos {
		pos[i] = int32(rng.IntN(size - patchSize + 1))
	}
	return pos
}

// descriptors cuts the patches at pos out of one pyramid level (N*C planes of size x
// size) and returns them as a descDim x count matrix, one column per patch and rows
// ordered (channel, y, x) like the reference's flattened descriptors. Grayscale levels
// are repeated into three channels.
func descriptors(level []float32, c, size int, pos []int32) []float32 {
	count := len(pos) / 2
	desc := make([]float32, descDim*count)
	for p := range count {
		img := p / patchesPerImg
		y0, x0 := int(pos[2*p]), int(pos[2*p+1])
		for ch := range 3 {
			src := level[(img*c+min(ch, c-1))*size*size:]
			for dy := range patchSize {
				row := src[(y0+dy)*size+x0:][:patchSize]
				k := ch*patchPixels + dy*patchSize
				for dx, v := range row {
					desc[(k+dx)*count+p] = v
				}
			}
		}
	}
	return desc
}

// normalize subtracts from the descDim x count descriptor matrix the per-channel mean and
// divides by the per-channel (population) standard deviation, both over all descriptors,
// like the reference's finalize_descriptors. A channel with zero deviation is only
// centred.
func normalize(desc []float32) {
	size := len(desc) / 3 // the rows of one channel are contiguous
	for ch := range 3 {
		vals := desc[ch*size : (ch+1)*size]
		var sum float64
		for _, v := range vals {
			sum += float64(v)
		}
		mean := sum / float64(size)
		var ss float64
		for _, v := range vals {
			d := float64(v) - mean
			ss += d * d
		}
		scale := 1.0
		if std := math.Sqrt(ss / float64(size)); std > 0 {
			scale = 1 / std
		}
		for i, v := range vals {
			vals[i] = float32((float64(v) - mean) * scale)
		}
	}
}

// directions draws count random unit vectors of length dim (normalised Gaussian vectors,
// uniform on the sphere), returned as rows of a count x dim matrix.
func directions(rng *rand.Rand, count, dim int) []float32 {
	dirs := make([]float32, count*dim)
	g := make([]float64, dim)
	for j := range count {
		var ss float64
		for k := range g {
			g[k] = rng.NormFloat64()
			ss += g[k] * g[k]
		}
		inv := 1 / math.Sqrt(ss)
		for k, v := range g {
			dirs[j*dim+k] = float32(v * inv)
		}
	}
	return dirs
}

// sliced returns the sliced Wasserstein distance between the descriptor sets a and b,
// both dim x n matrices with one descriptor per column, along the directions dirs (rows
// of dim values): for each direction both sets are projected and sorted, and the result
// is |sorted a - sorted b| averaged over all descriptors and directions (the reference's
// sliced_wasserstein, which averages equally sized repeats).
//
// Directions are processed in chunks of dirsPerRepeat, spread over up to GOMAXPROCS
// goroutines; the chunk sums are added in a fixed order, so the result does not depend
// on scheduling.
func sliced(a, b []float32, dim int, dirs []float32) float64 {
	n, nd := len(a)/dim, len(dirs)/dim
	if n == 0 || nd == 0 {
		return 0
	}
	numChunks := (nd + dirsPerRepeat - 1) / dirsPerRepeat
	sums := make([]float64, numChunks)
	jobs := make(chan int, numChunks)
	for c := range numChunks {
		jobs <- c
	}
	close(jobs)
	var wg sync.WaitGroup
	for range min(numChunks, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			var w slicer
			for c := range jobs {
				chunk := dirs[c*dirsPerRepeat*dim : min(nd, (c+1)*dirsPerRepeat)*dim]
				sums[c] = w.sum(a, b, n, dim, chunk)
			}
		})
	}
	wg.Wait()
	var total float64
	for _, s := range sums {
		total += s
	}
	return total / float64(n*nd)
}

// slicer holds one goroutine's scratch space for sliced.
type slicer struct {
	pa, pb, blk, dirsT []float32
	sa, sb             sorter
}

// sum returns the sum over the directions in dirs (rows of dim values) and over the n
// descriptors of |sorted projection of a - sorted projection of b|.
func (w *slicer) sum(a, b []float32, n, dim int, dirs []float32) float64 {
	m := len(dirs) / dim
	if len(w.pa) < m*n {
		w.pa, w.pb = make([]float32, m*n), make([]float32, m*n)
		w.blk, w.dirsT = make([]float32, m*projBlock), make([]float32, dim*m)
	}
	dirsT := w.dirsT[:dim*m]
	for j := range m {
		for k := range dim {
			dirsT[k*m+j] = dirs[j*dim+k]
		}
	}
	project(w.pa, a, n, dim, dirsT, w.blk)
	project(w.pb, b, n, dim, dirsT, w.blk)
	var total float64
	for j := range m {
		ka := w.sa.sortedKeys(w.pa[j*n : (j+1)*n])
		kb := w.sb.sortedKeys(w.pb[j*n : (j+1)*n])
		for i, k := range ka {
			total += math.Abs(float64(keyFloat(k)) - float64(keyFloat(kb[i])))
		}
	}
	return total
}

// project sets p[j*n+i] to the dot product of direction j with descriptor i (column i of
// the dim x n matrix x), for the m directions given as the columns of the dim x m matrix
// dirsT. It works on blocks of projBlock descriptors, accumulating the m x projBlock
// products in blk with one BLAS rank-1 update per descriptor component (gonum's SIMD
// kernel; both vectors contiguous, which it needs for its fast path), then copies the
// block's rows into p. This is several times faster than a plain loop.
func project(p, x []float32, n, dim int, dirsT, blk []float32) {
	var impl gonum.Implementation
	m := len(dirsT) / dim
	for i0 := 0; i0 < n; i0 += projBlock {
		cols := min(projBlock, n-i0)
		c := blk[:m*cols]
		clear(c)
		for k := range dim {
			impl.Sger(m, cols, 1, dirsT[k*m:(k+1)*m], 1, x[k*n+i0:k*n+i0+cols], 1, c, cols)
		}
		for j := range m {
			copy(p[j*n+i0:j*n+i0+cols], c[j*cols:(j+1)*cols])
		}
	}
}
