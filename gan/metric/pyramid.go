package metric

// binomial is the 1-D factor of the 5x5 pyramid kernel [1,4,6,4,1]^T [1,4,6,4,1] / 256
// used by the reference (and by OpenCV's pyrDown/pyrUp).
var binomial = [5]float64{1.0 / 16, 4.0 / 16, 6.0 / 16, 4.0 / 16, 1.0 / 16}

// binomialUp is binomial scaled by 2, i.e. the 2-D kernel times 4, which pyrUp needs to
// make up for the zeros it inserts.
var binomialUp = [5]float64{2.0 / 16, 8.0 / 16, 12.0 / 16, 8.0 / 16, 2.0 / 16}

// mirror maps index i into [0, n) by reflecting about the centre of the edge pixel
// (scipy.ndimage mode "mirror", OpenCV BORDER_REFLECT_101): -1 -> 1, -2 -> 2, n -> n-2.
func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	for i < 0 || i >= n {
		if i < 0 {
			i = -i
		}
		if i >= n {
			i = 2*(n-1) - i
		}
	}
	return i
}

// taps returns, for every position in a line of length n, the five source indices of the
// 5-tap filter centred there, with mirrored borders.
func taps(n int) [][5]int {
	t := make([][5]int, n)
	for x := range t {
		for u := range 5 {
			t[x][u] = mirror(x+u-2, n)
		}
	}
	return t
}

// blur convolves the h x w plane src with the separable kernel k (outer product of k with
// itself), mirrored borders, like scipy.ndimage.convolve(mode="mirror").
func blur(src []float64, h, w int, k [5]float64) []float64 {
	tx, ty := taps(w), taps(h)
	tmp := make([]float64, h*w)
	for y := range h {
		row, out := src[y*w:(y+1)*w], tmp[y*w:(y+1)*w]
		for x, t := range tx {
			out[x] = k[0]*row[t[0]] + k[1]*row[t[1]] + k[2]*row[t[2]] + k[3]*row[t[3]] + k[4]*row[t[4]]
		}
	}
	dst := make([]float64, h*w)
	for y, t := range ty {
		out := dst[y*w : (y+1)*w]
		r0, r1, r2, r3, r4 := tmp[t[0]*w:], tmp[t[1]*w:], tmp[t[2]*w:], tmp[t[3]*w:], tmp[t[4]*w:]
		for x := range out {
			out[x] = k[0]*r0[x] + k[1]*r1[x] + k[2]*r2[x] + k[3]*r3[x] + k[4]*r4[x]
		}
	}
	return dst
}

// pyrDown blurs the h x w plane and keeps every second pixel (even rows and columns),
// giving an h/2 x w/2 plane, like the reference's pyr_down.
func pyrDown(src []float64, h, w int) []float64 {
	b := blur(src, h, w, binomial)
	dst := make([]float64, 0, (h/2)*(w/2))
	for y := 0; y < h; y += 2 {
		for x := 0; x < w; x += 2 {
			dst = append(dst, b[y*w+x])
		}
	}
	return dst
}

// pyrUp doubles the h x w plane by inserting zeros at odd rows and columns and blurring
// with 4 times the kernel, like the reference's pyr_up.
func pyrUp(src []float64, h, w int) []float64 {
	z := make([]float64, 4*h*w)
	for y := range h {
		for x := range w {
			z[2*y*2*w+2*x] = src[y*w+x]
		}
	}
	return blur(z, 2*h, 2*w, binomialUp)
}

// laplacian returns the Laplacian pyramid of a res x res plane with the given number of
// levels, finest first, like the reference's generate_laplacian_pyramid: level i is the
// Gaussian level i minus the upsampled Gaussian level i+1, and the last level is the
// low-pass residual. The input is not modified.
func laplacian(plane []float64, res, levels int) [][]float64 {
	pyr := [][]float64{append([]float64(nil), plane...)}
	for size := res; len(pyr) < levels; size /= 2 {
		g := pyr[len(pyr)-1] // still the Gaussian level here
		down := pyrDown(g, size, size)
		up := pyrUp(down, size/2, size/2)
		for i := range g {
			g[i] -= up[i]
		}
		pyr = append(pyr, down)
	}
	return pyr
}
