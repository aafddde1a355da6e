package app

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"

	"tessera/gan/model"
)

func TestSlerp(t *testing.T) {
	a, b := []float32{1, 0, 0}, []float32{0, 1, 0}
	cases := []struct {
		t    float64
		want []float32
	}{
		{0, a}, {1, b}, {0.5, []float32{float32(math.Sqrt(0.5)), float32(math.Sqrt(0.5)), 0}},
	}
	for _, c := range cases {
		got := Slerp(a, b, c.t)
		for i := range got {
			if math.Abs(float64(got[i]-c.want[i])) > 1e-6 {
				t.Errorf("Slerp(t=%g) = %v, want %v", c.t, got, c.want)
				break
			}
		}
	}
	// parallel vectors fall back to a linear blend
	if got := Slerp([]float32{2, 0}, []float32{4, 0}, 0.5); math.Abs(float64(got[0]-3)) > 1e-6 {
		t.Errorf("parallel: %v", got)
	}
}

func testModel() *Model {
	cfg := model.Config{MaxRes: 8, Channels: map[int]int{4: 16, 8: 8}, StyleDim: 12, NoiseDim: 4, MbstdGroup: 4}
	return &Model{Config: cfg, Res: 8, Alpha: 1, Params: model.NewGenerator(cfg, rand.New(rand.NewPCG(1, 1)))}
}

func TestExplorer(t *testing.T) {
	e, err := NewExplorer(testModel())
	if err != nil {
		t.Fatal(err)
	}
	share := e.VarianceShare()
	if len(share) != Directions || share[0] < share[len(share)-1] || share[0] <= 0 {
		t.Fatalf("variance shares %v: want %d decreasing positive values", share, Directions)
	}
	a, b := e.Random(1), e.Random(2)
	ia, err := e.Render(a, 4)
	if err != nil {
		t.Fatal(err)
	}
	if ia.Bounds().Dx() != 4*e.Scale() {
		t.Fatalf("render size %v", ia.Bounds())
	}
	again, _ := e.Render(e.Random(1), 4)
	if !bytes.Equal(ia.Pix, again.Pix) {
		t.Error("rendering the same seed twice differs")
	}
	b0, _ := e.Render(e.Blend(a, b, 0), 4)
	if !bytes.Equal(ia.Pix, b0.Pix) {
		t.Error("Blend(a, b, 0) does not render as a")
	}
	ib, _ := e.Render(b, 4)
	b1, _ := e.Render(e.Blend(a, b, 1), 4)
	if diff(ib.Pix, b1.Pix) > 2 {
		t.Error("Blend(a, b, 1) does not render as b")
	}
	moved, _ := e.Render(e.Move(a, []float64{3}), 4)
	if diff(ia.Pix, moved.Pix) == 0 {
		t.Error("moving along the first direction changed nothing")
	}
	if p := e.Move(a, make([]float64, Directions)); !equal(p.Style, a.Style) {
		t.Error("a zero move changed the style")
	}
}

func diff(a, b []byte) int {
	m := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		m = max(m, d)
	}
	return m
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// TestNoiseSharedAcrossGridSizes: a point's cells have the same noise on every grid size, so a
// small preview shows the corner of a larger export; different cells and seeds differ.
func TestNoiseSharedAcrossGridSizes(t *testing.T) {
	e := NewRenderer(testModel())
	nd := e.m.Config.NoiseDim
	small, large := e.Latent(e.Random(5), 4), e.Latent(e.Random(5), 8)
	cell := func(lt []float32, l, y, x int) []float32 {
		v := make([]float32, nd)
		for c := range v {
			v[c] = lt[(c*l+y)*l+x]
		}
		return v
	}
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			if !equal(cell(small.Noise, 4, y, x), cell(large.Noise, 8, y, x)) {
				t.Fatalf("cell (%d,%d) differs between the 4x4 and the 8x8 grid", y, x)
			}
		}
	}
	if equal(cell(large.Noise, 8, 0, 1), cell(large.Noise, 8, 1, 0)) || equal(cell(large.Noise, 8, 0, 2), cell(large.Noise, 8, 0, 3)) {
		t.Error("two cells have the same noise")
	}
	if other := e.Latent(e.Random(6), 4); equal(other.Noise, small.Noise) {
		t.Error("two seeds give the same noise")
	}
}
