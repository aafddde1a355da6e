package texture

import (
	"image"
	"image/color"
	"testing"
)

func TestTile(t *testing.T) {
	src := testImage(3, 2)
	offset := testImage(10, 10).SubImage(image.Rect(4, 5, 7, 7))
	premul := image.NewRGBA(image.Rect(0, 0, 2, 2))
	premul.SetRGBA(1, 0, color.RGBA{50, 0, 100, 100})
	for _, tc := range []struct {
		name   string
		img    image.Image
		nx, ny int
	}{
		{"2x2", src, 2, 2},
		{"3x3", src, 3, 3},
		{"1x1 is a copy", src, 1, 1},
		{"3x1", src, 3, 1},
		{"offset bounds", offset, 2, 3},
		{"premultiplied source", premul, 2, 2},
		{"gray source", grayRow(1, 2, 3), 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := Tile(tc.img, tc.nx, tc.ny)
			b := tc.img.Bounds()
			if out.Rect != image.Rect(0, 0, tc.nx*b.Dx(), tc.ny*b.Dy()) {
				t.Fatalf("bounds %v, want %dx%d at the origin", out.Rect, tc.nx*b.Dx(), tc.ny*b.Dy())
			}
			for y := 0; y < out.Rect.Dy(); y++ {
				for x := 0; x < out.Rect.Dx(); x++ {
					want := color.NRGBAModel.Convert(tc.img.At(b.Min.X+x%b.Dx(), b.Min.Y+y%b.Dy()))
					if got := out.NRGBAAt(x, y); got != want {
						t.Fatalf("pixel (%d,%d) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
	// The result never aliases the source.
	out := Tile(src, 1, 1)
	out.Pix[0]++
	if src.Pix[0] == out.Pix[0] {
		t.Error("Tile(img, 1, 1) shares pixels with img")
	}
}

func TestTileBadInput(t *testing.T) {
	src := testImage(3, 2)
	for _, tc := range []struct {
		name   string
		img    image.Image
		nx, ny int
	}{
		{"nil", nil, 2, 2},
		{"nx 0", src, 0, 2},
		{"ny negative", src, 2, -1},
		{"empty image", image.NewNRGBA(image.Rect(2, 2, 2, 5)), 2, 2},
		{"overflowing count", src, 1 << 62, 1 << 62},
		{"too large", src, 1 << 20, 1 << 20},
		{"unbounded", image.NewUniform(color.White), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if out := Tile(tc.img, tc.nx, tc.ny); out == nil || !out.Rect.Empty() {
				t.Errorf("got %v, want an empty image", out)
			}
		})
	}
}
