package texture

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"
)

// nrgbaOf builds a w x h NRGBA image from a colour function.
func nrgbaOf(w, h int, c func(x, y int) color.NRGBA) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetNRGBA(x, y, c(x, y))
		}
	}
	return m
}

// generic hides an image's concrete type, forcing the generic (At-based) code paths.
type generic struct{ image.Image }

func TestHeightLuminance(t *testing.T) {
	// Black and white are present, so normalisation is the identity on the Rec. 709 luma.
	cols := []color.NRGBA{
		{0, 0, 0, 255}, {255, 255, 255, 255}, {255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255},
		{128, 128, 128, 255},
	}
	want := []float64{0, 1, 0.2126, 0.7152, 0.0722, 128.0 / 255}
	base := nrgbaOf(len(cols), 1, func(x, _ int) color.NRGBA { return cols[x] })
	rgba := image.NewRGBA(base.Rect)
	nrgba64 := image.NewNRGBA64(base.Rect)
	offset := image.NewNRGBA(image.Rect(10, 20, 10+len(cols), 21))
	for x := range cols {
		rgba.Set(x, 0, cols[x])
		nrgba64.Set(x, 0, cols[x])
		offset.Set(10+x, 20, cols[x])
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"NRGBA", base}, {"RGBA", rgba}, {"NRGBA64", nrgba64}, {"generic", generic{base}},
		{"offset bounds", offset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Height(tc.img, 0)
			if f.W != len(cols) || f.H != 1 || len(f.V) != len(cols) {
				t.Fatalf("field %dx%d with %d values", f.W, f.H, len(f.V))
			}
			for i, w := range want {
				if math.Abs(f.V[i]-w) > 1e-9 {
					t.Errorf("pixel %d (%v): height %.6f, want %.6f", i, cols[i], f.V[i], w)
				}
			}
		})
	}
}

func TestHeightNormalisation(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  image.Image
		blur float64
		want []float64
	}{
		{"two grays span [0,1]", grayRow(50, 100, 75), 0, []float64{0, 1, 0.5}},
		{"flat gives 0.5", grayRow(7, 7, 7, 7), 0, []float64{0.5, 0.5, 0.5, 0.5}},
		{"flat blurred gives 0.5", grayRow(200, 200, 200), 2, []float64{0.5, 0.5, 0.5}},
		{"negative blur is none", grayRow(0, 255), -1, []float64{0, 1}},
		{"NaN blur is none", grayRow(0, 255), math.NaN(), []float64{0, 1}},
		// With wrap-around, a short period blurred hard becomes (nearly) flat at the mean; the
		// blur is capped at the image size, so this must not take forever.
		{"huge blur is flat", grayRow(0, 255, 0, 255, 255), 1e12, []float64{0.6, 0.6, 0.6, 0.6, 0.6}},
		{"translucent RGBA is un-premultiplied", rgbaRow(color.RGBA{0, 0, 0, 255}, color.RGBA{64, 64, 64, 128}, color.RGBA{128, 128, 128, 128}), 0, []float64{0, 0.5, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Height(tc.img, tc.blur)
			if len(f.V) != len(tc.want) {
				t.Fatalf("got %d values, want %d", len(f.V), len(tc.want))
			}
			for i, w := range tc.want {
				if math.Abs(f.V[i]-w) > 1e-2 || tc.blur <= 2 && math.Abs(f.V[i]-w) > 1e-9 {
					t.Errorf("value %d = %.8f, want %.8f", i, f.V[i], w)
				}
			}
		})
	}
}

func grayRow(v ...uint8) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, len(v), 1))
	copy(m.Pix, v)
	return m
}

func rgbaRow(c ...color.RGBA) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, len(c), 1))
	for i, x := range c {
		m.SetRGBA(i, 0, x)
	}
	return m
}

func TestHeightEmpty(t *testing.T) {
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"nil", nil},
		{"empty", image.NewNRGBA(image.Rectangle{})},
		{"unbounded uniform", image.NewUniform(color.White)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Height(tc.img, 1)
			if f == nil || f.W != 0 || f.H != 0 || len(f.V) != 0 {
				t.Fatalf("got %+v, want an empty field", f)
			}
			if g := f.Gray16(); !g.Rect.Empty() {
				t.Errorf("Gray16 of empty field has bounds %v", g.Rect)
			}
			if n := Normal(f, 1, false); !n.Rect.Empty() {
				t.Errorf("Normal of empty field has bounds %v", n.Rect)
			}
		})
	}
}

func TestHeightBlurWraps(t *testing.T) {
	// A single bright pixel at the corner: the wrap-around blur spreads it symmetrically across
	// the borders, and the blur is mass-preserving (mean unchanged).
	const w, h = 9, 7
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Pix[0] = 255
	f := Height(img, 1)
	at := func(x, y int) float64 { return f.V[((y+h)%h)*w+(x+w)%w] }
	for _, p := range [][4]int{{1, 0, -1, 0}, {0, 1, 0, -1}, {2, 1, -2, -1}, {1, 2, -1, 2}} {
		a, b := at(p[0], p[1]), at(p[2], p[3])
		if a <= 0 || math.Abs(a-b) > 1e-12 {
			t.Errorf("h(%d,%d) = %g, h(%d,%d) = %g: want equal and positive", p[0], p[1], a, p[2], p[3], b)
		}
	}
	if at(0, 0) >= 1 || at(0, 0) <= at(1, 0) {
		t.Errorf("peak %g not reduced below 1 or not the maximum (neighbour %g)", at(0, 0), at(1, 0))
	}
	sum := 0.0
	for _, v := range f.V {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("blur changed the total height: %g, want 1", sum)
	}
}

func TestHeightBlurCommutesWithTiling(t *testing.T) {
	// The blurred height of a 2x2 tiling equals the 2x2 tiling of the blurred height: no seams.
	rng := rand.New(rand.NewPCG(1, 2))
	img := nrgbaOf(13, 10, func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
	})
	for _, blur := range []float64{0, 0.7, 2, 5} {
		small := Height(img, blur)
		big := Height(Tile(img, 2, 2), blur)
		for y := 0; y < big.H; y++ {
			for x := 0; x < big.W; x++ {
				a, b := big.V[y*big.W+x], small.V[(y%small.H)*small.W+x%small.W]
				if math.Abs(a-b) > 1e-9 {
					t.Fatalf("blur %g: tiled height (%d,%d) = %g, want %g", blur, x, y, a, b)
				}
			}
		}
	}
}

func TestFieldGray(t *testing.T) {
	f := &Field{W: 6, H: 1, V: []float64{0, 1, 0.5, -1, 2, math.NaN()}}
	g16 := f.Gray16()
	want16 := []uint16{0, 65535, 32768, 0, 65535, 0}
	for i, w := range want16 {
		if got := g16.Gray16At(i, 0).Y; got != w {
			t.Errorf("Gray16 value %d (%g) = %d, want %d", i, f.V[i], got, w)
		}
	}
	g8 := f.Gray()
	want8 := []uint8{0, 255, 128, 0, 255, 0}
	for i, w := range want8 {
		if got := g8.GrayAt(i, 0).Y; got != w {
			t.Errorf("Gray value %d (%g) = %d, want %d", i, f.V[i], got, w)
		}
	}
	// The 16-bit precision survives a PNG round trip.
	var buf bytes.Buffer
	if err := png.Encode(&buf, g16); err != nil {
		t.Fatal(err)
	}
	back, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if g, ok := back.(*image.Gray16); !ok || !bytes.Equal(g.Pix, g16.Pix) {
		t.Errorf("16-bit height PNG did not round trip (decoded %T)", back)
	}
	for _, bad := range []*Field{nil, {W: 2, H: 2, V: []float64{1}}, {W: -1, H: -1, V: []float64{1}}} {
		if !bad.Gray16().Rect.Empty() || !bad.Gray().Rect.Empty() || !Normal(bad, 1, false).Rect.Empty() {
			t.Errorf("invalid field %+v gave a non-empty image", bad)
		}
	}
}

// encodeN is the normal-map encoding of one normalised component.
func encodeN(c float64) uint8 { return uint8(math.Round((c*0.5 + 0.5) * 255)) }

// expectNormal returns the expected RGB for slopes dx, dy (per the documented formula).
func expectNormal(dx, dy, strength float64, flipY bool) [3]uint8 {
	nx, ny, nz := -strength*dx, strength*dy, 1.0
	if flipY {
		ny = -ny
	}
	l := math.Sqrt(nx*nx + ny*ny + nz*nz)
	return [3]uint8{encodeN(nx / l), encodeN(ny / l), encodeN(nz / l)}
}

func rgbAt(m *image.NRGBA, x, y int) [3]uint8 {
	c := m.NRGBAAt(x, y)
	if c.A != 255 {
		return [3]uint8{0, 0, 0} // never expected: alpha must be 255
	}
	return [3]uint8{c.R, c.G, c.B}
}

func TestNormalHandComputed(t *testing.T) {
	// h(x, y) = A*sin(2*pi*x/8) + B*cos(2*pi*y/4) on an 8x4 grid.
	// sin over x = 0..7: 0, s, 1, s, 0, -s, -1, -s (s = sqrt(2)/2); cos over y = 0..3: 1, 0, -1, 0.
	const w, h, A, B, k = 8, 4, 0.5, 0.25, 2.0
	s := math.Sqrt2 / 2
	f := &Field{W: w, H: h, V: make([]float64, w*h)}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			f.V[y*w+x] = A*math.Sin(2*math.Pi*float64(x)/w) + B*math.Cos(2*math.Pi*float64(y)/h)
		}
	}
	cases := []struct {
		name   string
		x, y   int
		dx, dy float64 // (right-left)/2 and (down-up)/2, neighbours written out by hand
		lit    *[3]uint8
	}{
		// x=0: left neighbour wraps to x=7 (-s), right x=1 (s). y=3: up y=2 (-1), down wraps to y=0 (1).
		{"left border, bottom border", 0, 3, A * (s - (-s)) / 2, B * (1 - (-1)) / 2, &[3]uint8{59, 176, 224}},
		// y=0: up wraps to y=3 (0), down y=1 (0).
		{"top-left corner", 0, 0, A * (s - (-s)) / 2, B * (0 - 0) / 2, nil},
		// x=7: left x=6 (-1), right wraps to x=0 (0). y=1: up y=0 (1), down y=2 (-1).
		{"right border", 7, 1, A * (0 - (-1)) / 2, B * (-1 - 1) / 2, nil},
		// Interior: x=4: left x=3 (s), right x=5 (-s).
		{"interior falling", 4, 2, A * (-s - s) / 2, B * (0 - 0) / 2, nil},
		// Interior: x=2: left x=1 (s), right x=3 (s); y=1: up (1), down (-1).
		{"interior crest", 2, 1, A * (s - s) / 2, B * (-1 - 1) / 2, nil},
	}
	gl, dx := Normal(f, k, false), Normal(f, k, true)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if want := expectNormal(tc.dx, tc.dy, k, false); rgbAt(gl, tc.x, tc.y) != want {
				t.Errorf("OpenGL normal at (%d,%d) = %v, want %v", tc.x, tc.y, rgbAt(gl, tc.x, tc.y), want)
			}
			if tc.lit != nil && rgbAt(gl, tc.x, tc.y) != *tc.lit {
				t.Errorf("OpenGL normal at (%d,%d) = %v, want literal %v", tc.x, tc.y, rgbAt(gl, tc.x, tc.y), *tc.lit)
			}
			if want := expectNormal(tc.dx, tc.dy, k, true); rgbAt(dx, tc.x, tc.y) != want {
				t.Errorf("DirectX normal at (%d,%d) = %v, want %v", tc.x, tc.y, rgbAt(dx, tc.x, tc.y), want)
			}
		})
	}
}

func TestNormalSignConvention(t *testing.T) {
	// A hill centred at (8, 8): right of it the ground falls to the right, so the normal leans
	// right (red > 128); above it (smaller y) the ground falls upwards, so the normal leans up
	// (green > 128 in OpenGL, < 128 in DirectX).
	const n = 16
	f := &Field{W: n, H: n, V: make([]float64, n*n)}
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := float64(x-8), float64(y-8)
			f.V[y*n+x] = math.Exp(-(dx*dx + dy*dy) / 8)
		}
	}
	gl, d3d := Normal(f, 4, false), Normal(f, 4, true)
	for _, tc := range []struct {
		name       string
		x, y       int
		r, g, gDX  int // sign of (component - 128) expected: -1, 0, +1
		blueBelow1 bool
	}{
		{"right of hill", 10, 8, +1, 0, 0, true},
		{"left of hill", 6, 8, -1, 0, 0, true},
		{"above hill", 8, 6, 0, +1, -1, true},
		{"below hill", 8, 10, 0, -1, +1, true},
		{"summit", 8, 8, 0, 0, 0, false},
	} {
		sign := func(v uint8) int {
			switch {
			case v > 128:
				return 1
			case v < 128:
				return -1
			}
			return 0
		}
		c, c2 := gl.NRGBAAt(tc.x, tc.y), d3d.NRGBAAt(tc.x, tc.y)
		if sign(c.R) != tc.r || sign(c.G) != tc.g || sign(c2.G) != tc.gDX || (c.B < 255) != tc.blueBelow1 {
			t.Errorf("%s: OpenGL %v, DirectX %v; want signs r=%d g=%d gDX=%d", tc.name, c, c2, tc.r, tc.g, tc.gDX)
		}
	}
}

func TestNormalFlat(t *testing.T) {
	periodic := &Field{W: 8, H: 8, V: make([]float64, 64)}
	for i := range periodic.V {
		periodic.V[i] = math.Sin(2 * math.Pi * float64(i%8) / 8)
	}
	for _, tc := range []struct {
		name     string
		f        *Field
		strength float64
	}{
		{"flat field", &Field{W: 5, H: 3, V: []float64{.3, .3, .3, .3, .3, .3, .3, .3, .3, .3, .3, .3, .3, .3, .3}}, 5},
		{"flat field, flipY", &Field{W: 1, H: 1, V: []float64{0.9}}, 1},
		{"strength 0", periodic, 0},
		{"NaN strength", periodic, math.NaN()},
		{"infinite strength", periodic, math.Inf(1)},
		{"NaN heights", &Field{W: 2, H: 2, V: []float64{math.NaN(), 0, 0, 0}}, 1},
		{"width 2 has no x slope", &Field{W: 2, H: 1, V: []float64{0, 1}}, 1},
	} {
		for _, flip := range []bool{false, true} {
			m := Normal(tc.f, tc.strength, flip)
			for y := 0; y < tc.f.H; y++ {
				for x := 0; x < tc.f.W; x++ {
					if c := m.NRGBAAt(x, y); c != (color.NRGBA{128, 128, 255, 255}) {
						t.Errorf("%s (flipY %v): pixel (%d,%d) = %v, want {128 128 255 255}", tc.name, flip, x, y, c)
					}
				}
			}
		}
	}
}

func TestNormalFlipY(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := &Field{W: 32, H: 24, V: make([]float64, 32*24)}
	for i := range f.V {
		f.V[i] = rng.Float64()
	}
	gl, d3d := Normal(f, 3, false), Normal(f, 3, true)
	for i := 0; i < len(gl.Pix); i += 4 {
		// Green is negated around 127.5; rounding of exact halves can land on 128 both ways.
		if gl.Pix[i] != d3d.Pix[i] || gl.Pix[i+2] != d3d.Pix[i+2] || gl.Pix[i+3] != d3d.Pix[i+3] {
			t.Fatalf("pixel %d: flipY changed red, blue or alpha: %v vs %v", i/4, gl.Pix[i:i+4], d3d.Pix[i:i+4])
		}
		if s := int(gl.Pix[i+1]) + int(d3d.Pix[i+1]); s != 255 && s != 256 {
			t.Fatalf("pixel %d: green %d and flipped %d are not mirrored around 128", i/4, gl.Pix[i+1], d3d.Pix[i+1])
		}
	}
}

// seamStats returns the mean absolute RGB step across the wrap-around seam (between the last and
// first column, or row when rows is set), and the mean and standard deviation of the same
// statistic over interior column (row) pairs.
func seamStats(m *image.NRGBA, rows bool) (seam, mean, sd float64) {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	// n lines (columns) of along pixels each; px(i, j) is pixel j of line i.
	n, along := w, h
	px := func(i, j int) []uint8 { return m.Pix[j*m.Stride+4*i:] }
	if rows {
		n, along = h, w
		px = func(i, j int) []uint8 { return m.Pix[i*m.Stride+4*j:] }
	}
	step := func(i0, i1 int) float64 {
		s := 0.0
		for j := 0; j < along; j++ {
			a, b := px(i0, j), px(i1, j)
			for c := 0; c < 3; c++ {
				s += math.Abs(float64(a[c]) - float64(b[c]))
			}
		}
		return s / float64(along)
	}
	var steps []float64
	for i := 0; i+1 < n; i++ {
		steps = append(steps, step(i, i+1))
	}
	for _, s := range steps {
		mean += s
	}
	mean /= float64(len(steps))
	for _, s := range steps {
		sd += (s - mean) * (s - mean)
	}
	return step(n-1, 0), mean, math.Sqrt(sd / float64(len(steps)))
}

func TestNormalTiles(t *testing.T) {
	// A stationary random periodic field: i.i.d. noise made smooth by the wrap-around blur.
	// Tall for the vertical seam, wide for the horizontal one, so each seam is averaged over
	// 2048 pixels.
	rng := rand.New(rand.NewPCG(5, 6))
	noise := image.NewGray(image.Rect(0, 0, 64, 2048))
	wide := image.NewGray(image.Rect(0, 0, 2048, 64))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
		wide.Pix[i] = uint8(rng.IntN(256))
	}
	f := Height(noise, 1.5)

	t.Run("seam step matches interior steps", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			f    *Field
			rows bool
		}{{"vertical seam", f, false}, {"horizontal seam", Height(wide, 1.5), true}} {
			seam, mean, sd := seamStats(Normal(tc.f, 8, false), tc.rows)
			t.Logf("%s: seam step %.3f, interior %.3f +- %.3f", tc.name, seam, mean, sd)
			if math.Abs(seam-mean) > 0.05*mean || math.Abs(seam-mean) > 4*sd+1e-9 {
				t.Errorf("%s: seam step %.3f differs from interior mean %.3f (sd %.3f)", tc.name, seam, mean, sd)
			}
		}
	})
	t.Run("control: a cropped normal map shows a seam", func(t *testing.T) {
		// Cropping 7 columns makes the wrap-around step jump between unrelated columns; the
		// statistic must notice, or the test above proves nothing.
		m := Normal(f, 8, false)
		seam, mean, sd := seamStats(m.SubImage(image.Rect(0, 0, 57, m.Rect.Dy())).(*image.NRGBA), false)
		t.Logf("cropped: seam step %.3f, interior %.3f +- %.3f", seam, mean, sd)
		if seam < 1.2*mean {
			t.Errorf("seam statistic failed to detect a seam: seam %.3f, interior %.3f", seam, mean)
		}
	})
	t.Run("normal of tiled field equals tiled normal", func(t *testing.T) {
		small := Height(noise.SubImage(image.Rect(0, 0, 40, 30)), 1)
		big := &Field{W: 3 * small.W, H: 2 * small.H, V: make([]float64, 6*len(small.V))}
		for y := 0; y < big.H; y++ {
			for x := 0; x < big.W; x++ {
				big.V[y*big.W+x] = small.V[(y%small.H)*small.W+x%small.W]
			}
		}
		got, want := Normal(big, 5, false), Tile(Normal(small, 5, false), 3, 2)
		if !bytes.Equal(got.Pix, want.Pix) {
			t.Error("normal map of the 3x2 tiled field differs from the 3x2 tiling of the normal map")
		}
	})
}
