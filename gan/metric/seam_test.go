package metric

import (
	"image"
	"image/color"
	_ "image/jpeg" // decode the optional photo
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// photoPath is a real texture photo used when present (the test skips otherwise).
const photoPath = "/work/shared/textures/stone-wall/castell_wall_gk_v01_cc.jpg"

// batch builds a one-image grayscale or RGB batch of w x h with values f(x, y, c).
func batch(c, w, h int, f func(x, y, c int) float64) Images {
	im := Images{N: 1, C: c, H: h, W: w, Data: make([]float32, c*h*w)}
	for ch := range c {
		for y := range h {
			for x := range w {
				im.Data[(ch*h+y)*w+x] = float32(f(x, y, ch))
			}
		}
	}
	return im
}

// toImage converts image 0 of a batch to a 16-bit image.Image.
func toImage(im Images) image.Image {
	img := image.NewNRGBA64(image.Rect(0, 0, im.W, im.H))
	for y := range im.H {
		for x := range im.W {
			var v [3]uint16
			for ch := range 3 {
				f := float64(im.Data[(min(ch, im.C-1)*im.H+y)*im.W+x])
				v[ch] = uint16(math.Round((f + 1) / 2 * 0xffff))
			}
			img.SetNRGBA64(x, y, color.NRGBA64{v[0], v[1], v[2], 0xffff})
		}
	}
	return img
}

func TestSeamScore(t *testing.T) {
	const w, h = 32, 16
	// A single diagonal wave: along the wrap column (or row) the phase runs through the
	// same values as in the whole image, so the seam steps average exactly like the
	// interior ones.
	diagonal := batch(3, 32, 32, func(x, y, c int) float64 {
		return 0.8 * math.Sin(2*math.Pi*float64(x+y)/32+float64(c))
	})
	// Several waves whose periods divide the size: periodic, but the seam sits at one
	// particular phase, so the score is only close to 1.
	waves := batch(3, 64, 64, func(x, y, c int) float64 {
		fx, fy := float64(x)/64, float64(y)/64
		return 0.3*math.Sin(2*math.Pi*(3*fx+5*fy)+float64(c)) + 0.3*math.Sin(2*math.Pi*(7*fx-2*fy)+1) +
			0.2*math.Cos(2*math.Pi*(1*fx+9*fy)+2)
	})
	// A horizontal ramp v = x*s: every interior horizontal step is s, vertical steps are 0,
	// each of the h wrap steps in a row is (w-1)*s and the w vertical wrap steps are 0:
	//   seam mean  = h*(w-1)*s / (h + w)
	//   inner mean = h*(w-1)*s / (h*(w-1) + w*(h-1))
	//   score      = (h*(w-1) + w*(h-1)) / (h + w) = (2wh - w - h) / (w + h)
	rampScore := float64(2*w*h-w-h) / float64(w+h) // 20.333...
	ramp := batch(1, w, h, func(x, y, c int) float64 { return -1 + float64(x)/16 })
	rgbRamp := batch(3, w, h, func(x, y, c int) float64 { return -1 + float64(x)/16*float64(c+1)/3 })
	// A crop of a smooth, non-periodic noise field: the wrap joins pixels far apart.
	rng := rand.New(rand.NewPCG(7, 7))
	field := smoothNoise(rng, 1, 3, 128, 3)
	crop := Images{N: 1, C: 3, H: 48, W: 48}
	for c := range 3 {
		for y := range 48 {
			row := field.Data[(c*128+y+17)*128+33:]
			crop.Data = append(crop.Data, row[:48]...)
		}
	}
	tests := []struct {
		name     string
		im       Images
		min, max float64
	}{
		{"diagonal wave", diagonal, 1 - 1e-9, 1 + 1e-9},
		{"sum of periodic waves", waves, 0.9, 1.1},
		{"gray ramp", ramp, rampScore * (1 - 1e-6), rampScore * (1 + 1e-6)},
		{"rgb ramps", rgbRamp, rampScore * (1 - 1e-6), rampScore * (1 + 1e-6)},
		{"noise field crop", crop, 2, math.Inf(1)},
		{"uniform", batch(3, 8, 8, func(x, y, c int) float64 { return 0.3 }), 1, 1},
		{"1 px wide", batch(3, 1, 8, func(x, y, c int) float64 { return float64(y) / 8 }), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SeamScoreImages(tt.im, 0)
			if !(got >= tt.min && got <= tt.max) {
				t.Errorf("SeamScoreImages = %v, want in [%v, %v]", got, tt.min, tt.max)
			}
			// The same content as a 16-bit image.Image scores the same up to rounding.
			gotImg := SeamScore(toImage(tt.im))
			if math.Abs(gotImg-got) > 1e-3*math.Max(1, got) {
				t.Errorf("SeamScore(image) = %v, SeamScoreImages = %v", gotImg, got)
			}
			t.Logf("%s: %.4f", tt.name, got)
		})
	}
}

func TestSeamScoreImagesBadInput(t *testing.T) {
	ok := batch(3, 4, 4, func(x, y, c int) float64 { return 0 })
	bad := ok
	bad.C = 2
	for _, tc := range []struct {
		name string
		im   Images
		i    int
	}{{"index too large", ok, 1}, {"negative index", ok, -1}, {"bad shape", bad, 0}} {
		if got := SeamScoreImages(tc.im, tc.i); !math.IsNaN(got) {
			t.Errorf("%s: got %v, want NaN", tc.name, got)
		}
	}
}

func TestSeamScoreTinyImage(t *testing.T) {
	for _, r := range []image.Rectangle{image.Rect(0, 0, 0, 0), image.Rect(0, 0, 1, 1), image.Rect(3, 3, 4, 9)} {
		if got := SeamScore(image.NewGray(r)); got != 1 {
			t.Errorf("%v: got %v, want 1", r, got)
		}
	}
}

// TestSeamScoreImageBounds checks that a sub-image with a non-zero origin is handled: a
// horizontal 8-bit ramp 0, 10, 20, ... cut out at (5, 3) has the ramp's exact score.
func TestSeamScoreImageBounds(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 40, 30))
	for y := range 30 {
		for x := range 40 {
			img.SetGray(x, y, color.Gray{uint8(10 * (x - 5) & 0xff)})
		}
	}
	sub := img.SubImage(image.Rect(5, 3, 25, 13)) // 20 x 10, ramp 0..190
	want := float64(2*20*10-20-10) / float64(20+10)
	if got := SeamScore(sub); math.Abs(got-want) > 1e-9 {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestSeamScorePhoto takes random crops of a real texture photo, if it is available.
func TestSeamScorePhoto(t *testing.T) {
	f, err := os.Open(photoPath)
	if err != nil {
		t.Skipf("no photo: %v", err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decoding %s: %v", photoPath, err)
	}
	b := img.Bounds()
	const size = 128
	if b.Dx() < size || b.Dy() < size {
		t.Skipf("photo is only %v", b)
	}
	type subImager interface {
		SubImage(image.Rectangle) image.Image
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 3 {
		x, y := b.Min.X+rng.IntN(b.Dx()-size+1), b.Min.Y+rng.IntN(b.Dy()-size+1)
		crop := img.(subImager).SubImage(image.Rect(x, y, x+size, y+size))
		got := SeamScore(crop)
		t.Logf("crop at (%d,%d): %.3f", x, y, got)
		if got < 1.5 {
			t.Errorf("crop at (%d,%d): score %v, want well above 1", x, y, got)
		}
	}
}

// opaque hides an image's concrete type, so SeamScore takes its generic path.
type opaque struct{ image.Image }

// TestSeamScoreNRGBAFastPath checks that the NRGBA fast path gives exactly the generic path's
// score, on a sub-image with a non-zero origin and random opaque pixels. (For translucent pixels
// the generic path's round trip through premultiplied colour loses precision; the fast path reads
// the stored values exactly.)
func TestSeamScoreNRGBAFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	img := image.NewNRGBA(image.Rect(0, 0, 37, 29))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	sub := img.SubImage(image.Rect(3, 2, 33, 27))
	fast, slow := SeamScore(sub), SeamScore(opaque{sub})
	if fast != slow {
		t.Errorf("fast path %v, generic path %v", fast, slow)
	}
}
