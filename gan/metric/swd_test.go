package metric

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testSize is the resolution of the synthetic test sets: two pyramid levels, 32 and 16 px.
const testSize = 32

// testSets holds the synthetic image sets shared by the MS-SWD tests (generated once).
var testSets = func() (s struct{ noise1, noise2, stripes Images }) {
	rng := rand.New(rand.NewPCG(9, 9))
	s.noise1 = smoothNoise(rng, 16, 3, testSize, 2)
	s.noise2 = smoothNoise(rng, 16, 3, testSize, 2)
	s.stripes = stripes(rng, 16, 3, testSize)
	return s
}()

// reversed returns im with its images in reverse order (so they get other patch positions).
func reversed(im Images) Images {
	out := im
	out.Data = make([]float32, 0, len(im.Data))
	size := im.C * im.H * im.W
	for i := im.N - 1; i >= 0; i-- {
		out.Data = append(out.Data, im.Data[i*size:(i+1)*size]...)
	}
	return out
}

func mustMSSWD(t *testing.T, a, b Images, seed uint64) Result {
	t.Helper()
	r, err := MSSWD(a, b, seed)
	if err != nil {
		t.Fatalf("MSSWD: %v", err)
	}
	if len(r.Levels) == 0 {
		t.Fatal("MSSWD returned no levels")
	}
	var sum float64
	for _, l := range r.Levels {
		if math.IsNaN(l.SWD) || l.SWD < 0 {
			t.Fatalf("level %d px: SWD %v", l.Res, l.SWD)
		}
		sum += l.SWD
	}
	if avg := sum / float64(len(r.Levels)); math.Abs(avg-r.Avg) > 1e-9*math.Max(1, avg) {
		t.Fatalf("Avg %v is not the mean of the levels %v", r.Avg, avg)
	}
	return r
}

// TestSlicedByHand checks the 1-D core. a = {(1,0), (3,0), (2,0)}, b = {(10,5), (0,5),
// (4,5)}. Along (1,0): sorted a = 1 2 3, sorted b = 0 4 10, mean |diff| = (1+2+7)/3 =
// 10/3 (without sorting it would be (9+3+2)/3). Along (0,1): 0 0 0 against 5 5 5, mean
// 5. Along (-1,0): sorted a = -3 -2 -1, sorted b = -10 -4 0, again 10/3.
func TestSlicedByHand(t *testing.T) {
	a := []float32{1, 3, 2, 0, 0, 0} // dim x n: row 0 = first components, row 1 = second
	b := []float32{10, 0, 4, 5, 5, 5}
	tests := []struct {
		name string
		dirs []float32
		want float64
	}{
		{"x", []float32{1, 0}, 10.0 / 3},
		{"y", []float32{0, 1}, 5},
		{"minus x", []float32{-1, 0}, 10.0 / 3},
		{"x and y", []float32{1, 0, 0, 1}, (10.0/3 + 5) / 2},
		{"300 directions (3 chunks)", slices.Repeat([]float32{1, 0, 0, 1, -1, 0}, 100), (10.0/3 + 5 + 10.0/3) / 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sliced(a, b, 2, tt.dirs); math.Abs(got-tt.want) > 1e-6 {
				t.Errorf("sliced = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	const count = 50
	desc := make([]float32, descDim*count)
	for i := range desc {
		ch := i / (patchPixels * count)
		desc[i] = float32(10*float64(ch+1)*rng.NormFloat64() + 100*float64(ch))
	}
	for i := range patchPixels * count { // channel 2 constant: only centred
		desc[2*patchPixels*count+i] = 7
	}
	normalize(desc)
	for ch := range 3 {
		vals := desc[ch*patchPixels*count : (ch+1)*patchPixels*count]
		var sum, ss float64
		for _, v := range vals {
			sum += float64(v)
			ss += float64(v) * float64(v)
		}
		mean := sum / float64(len(vals))
		std := math.Sqrt(ss/float64(len(vals)) - mean*mean)
		wantStd := 1.0
		if ch == 2 {
			wantStd = 0
		}
		if math.Abs(mean) > 1e-5 || math.Abs(std-wantStd) > 1e-4 {
			t.Errorf("channel %d: mean %v std %v, want 0 and %v", ch, mean, std, wantStd)
		}
	}
}

func TestMSSWDIdenticalSetsAreZero(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		r := mustMSSWD(t, testSets.noise1.head(8), testSets.noise1.head(8), seed)
		if len(r.Levels) != 2 || r.Levels[0].Res != 32 || r.Levels[1].Res != 16 {
			t.Fatalf("levels %+v, want 32 and 16 px", r.Levels)
		}
		for _, l := range r.Levels {
			if l.SWD != 0 {
				t.Errorf("seed %d, %d px: SWD %v, want 0", seed, l.Res, l.SWD)
			}
		}
	}
}

// TestMSSWDSeparatesDistributions compares the same images with other patch positions
// (sampling noise only), two sets from the same distribution (smooth noise fields) and
// sets from different distributions (smooth noise vs. stripes). With only 16 images per
// set the same-distribution distance has a sizeable floor, especially at the 16 px
// residual level (few independent low-frequency blobs per image), hence the margins.
func TestMSSWDSeparatesDistributions(t *testing.T) {
	self := mustMSSWD(t, testSets.noise1, reversed(testSets.noise1), 1)
	same := mustMSSWD(t, testSets.noise1, testSets.noise2, 1)
	diff := mustMSSWD(t, testSets.noise1, testSets.stripes, 1)
	t.Logf("resampled self: %v", self)
	t.Logf("same distribution: %v", same)
	t.Logf("noise vs stripes: %v", diff)
	if same.Avg > diff.Avg/2 {
		t.Errorf("same distribution avg %v is not well below different distributions %v", same.Avg, diff.Avg)
	}
	for i := range self.Levels {
		res, s, m, d := self.Levels[i].Res, self.Levels[i].SWD, same.Levels[i].SWD, diff.Levels[i].SWD
		if s == 0 {
			t.Errorf("%d px: resampled patches give exactly 0", res)
		}
		if s > d/3 {
			t.Errorf("%d px: resampled self %v is not well below different distributions %v", res, s, d)
		}
		if m > d/1.5 {
			t.Errorf("%d px: same distribution %v is not below different distributions %v", res, m, d)
		}
	}
}

func TestMSSWDSymmetricAndDeterministic(t *testing.T) {
	a, b := testSets.noise1.head(8), testSets.stripes.head(8)
	ab := mustMSSWD(t, a, b, 5)
	if ba := mustMSSWD(t, b, a, 5); !slices.Equal(ab.Levels, ba.Levels) {
		t.Errorf("not symmetric: %v vs %v", ab, ba)
	}
	if again := mustMSSWD(t, a, b, 5); !slices.Equal(ab.Levels, again.Levels) || ab.Avg != again.Avg {
		t.Errorf("not deterministic: %v vs %v", ab, again)
	}
	other := mustMSSWD(t, a, b, 6)
	if slices.Equal(ab.Levels, other.Levels) {
		t.Error("seeds 5 and 6 gave identical results")
	}
	if math.Abs(other.Avg-ab.Avg) > 0.15*ab.Avg {
		t.Errorf("seeds 5 and 6 differ too much: %v vs %v", ab, other)
	}
}

func TestMSSWDUnequalCountsUseCommonPrefix(t *testing.T) {
	a, b := testSets.noise1.head(6), testSets.stripes.head(4)
	got := mustMSSWD(t, a, b, 3)
	want := mustMSSWD(t, a.head(4), b, 3)
	if !slices.Equal(got.Levels, want.Levels) {
		t.Errorf("6 vs 4 images: %v, want the first 4 vs 4: %v", got, want)
	}
}

// TestMSSWDGrayscale checks that C=1 is treated exactly like three equal channels.
func TestMSSWDGrayscale(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	gray := smoothNoise(rng, 4, 1, testSize, 1)
	rgb := Images{N: 4, C: 3, H: testSize, W: testSize}
	size := testSize * testSize
	for i := range gray.N {
		for range 3 {
			rgb.Data = append(rgb.Data, gray.Data[i*size:(i+1)*size]...)
		}
	}
	other := testSets.stripes.head(4)
	g, c := mustMSSWD(t, gray, other, 1), mustMSSWD(t, rgb, other, 1)
	if !slices.Equal(g.Levels, c.Levels) {
		t.Errorf("grayscale %v != equal-channel RGB %v", g, c)
	}
}

func TestMSSWDSmallResolutionHasOneLevel(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	a, b := smoothNoise(rng, 2, 3, 8, 1), smoothNoise(rng, 2, 3, 8, 1)
	r := mustMSSWD(t, a, b, 1)
	if len(r.Levels) != 1 || r.Levels[0].Res != 8 || r.Levels[0].SWD <= 0 || r.Avg != r.Levels[0].SWD {
		t.Errorf("8 px: got %+v", r)
	}
}

func TestMSSWDErrors(t *testing.T) {
	ok := func(n, c, h, w int) Images {
		return Images{N: n, C: c, H: h, W: w, Data: make([]float32, n*c*h*w)}
	}
	nan := ok(1, 3, 16, 16)
	nan.Data[5] = float32(math.NaN())
	tests := []struct {
		name string
		a, b Images
		want string // substring of the error
	}{
		{"empty a", Images{C: 3, H: 16, W: 16}, ok(1, 3, 16, 16), "set a: invalid images: sizes must be positive"},
		{"two channels", ok(1, 3, 16, 16), ok(1, 2, 16, 16), "set b: invalid images: C must be 1 or 3"},
		{"short data", Images{N: 2, C: 3, H: 16, W: 16, Data: make([]float32, 100)}, ok(1, 3, 16, 16), "len(Data) is 100"},
		{"NaN", ok(1, 3, 16, 16), nan, "set b: invalid images: Data[5] is NaN"},
		{"not square", ok(1, 3, 16, 32), ok(1, 3, 16, 32), "set a: images are 16x32"},
		{"not a power of two", ok(1, 3, 24, 24), ok(1, 3, 24, 24), "resolution 24 is not a power of two"},
		{"too small", ok(1, 3, 4, 4), ok(1, 3, 4, 4), "resolution 4 is not a power of two >= 8"},
		{"different resolutions", ok(1, 3, 32, 32), ok(1, 3, 16, 16), "set a is 32x32 but set b is 16x16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MSSWD(tt.a, tt.b, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	inf := Images{N: 1, C: 1, H: 2, W: 2, Data: []float32{0, 1, float32(math.Inf(-1)), 0}}
	tests := []struct {
		name string
		im   Images
		ok   bool
	}{
		{"rgb", Images{N: 2, C: 3, H: 2, W: 3, Data: make([]float32, 36)}, true},
		{"gray, out of range values", Images{N: 1, C: 1, H: 1, W: 2, Data: []float32{-3, 2}}, true},
		{"zero N", Images{N: 0, C: 3, H: 2, W: 2}, false},
		{"negative W", Images{N: 1, C: 3, H: 2, W: -2}, false},
		{"C=4", Images{N: 1, C: 4, H: 1, W: 1, Data: make([]float32, 4)}, false},
		{"long data", Images{N: 1, C: 1, H: 1, W: 1, Data: make([]float32, 2)}, false},
		{"Inf", inf, false},
	}
	for _, tt := range tests {
		if err := tt.im.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestResultString(t *testing.T) {
	r := Result{Levels: []Level{{64, 12.34}, {32, 8.06}, {16, 5}}, Avg: 8.4667}
	want := "MS-SWD x1e3: 64px 12.3, 32px 8.1, 16px 5.0, avg 8.5"
	if got := r.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
