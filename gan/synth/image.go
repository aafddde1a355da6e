package synth

import (
	"fmt"
	"image"
	"image/color"
	"math"
)

// to8 maps a generator value in [-1, 1] to 0..255 (clamped).
func to8(v float32) uint8 {
	x := math.Round(float64(v)*127.5 + 127.5)
	return uint8(max(0, min(255, x)))
}

// to16 maps a generator value in [-1, 1] to 0..65535 (clamped).
func to16(v float32) uint16 {
	x := math.Round((float64(v) + 1) * 32767.5)
	return uint16(max(0, min(65535, x)))
}

// Image converts image i of an [N, 3, side, side] batch to an 8-bit RGBA image.
func Image(data []float32, i, side int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	plane := side * side
	base := i * 3 * plane
	for p := 0; p < plane; p++ {
		o := 4 * p
		img.Pix[o] = to8(data[base+p])
		img.Pix[o+1] = to8(data[base+plane+p])
		img.Pix[o+2] = to8(data[base+2*plane+p])
		img.Pix[o+3] = 255
	}
	return img
}

// Image16 converts image i of a batch to a 16-bit RGBA image.
func Image16(data []float32, i, side int) *image.NRGBA64 {
	img := image.NewNRGBA64(image.Rect(0, 0, side, side))
	plane := side * side
	base := i * 3 * plane
	for p := 0; p < plane; p++ {
		img.SetNRGBA64(p%side, p/side, color.NRGBA64{
			R: to16(data[base+p]), G: to16(data[base+plane+p]), B: to16(data[base+2*plane+p]), A: 0xffff,
		})
	}
	return img
}

// Grid lays out the n images of a batch in a grid of cols columns with a gap of pad pixels.
func Grid(data []float32, n, side, cols, pad int) (*image.NRGBA, error) {
	if n < 1 || cols < 1 || len(data) < n*3*side*side {
		return nil, fmt.Errorf("grid: %d images of %d px in %d values", n, side, len(data))
	}
	rows := (n + cols - 1) / cols
	w, h := cols*side+(cols+1)*pad, rows*side+(rows+1)*pad
	grid := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range grid.Pix { // dark background
		grid.Pix[i] = 24
		if i%4 == 3 {
			grid.Pix[i] = 255
		}
	}
	for i := 0; i < n; i++ {
		img := Image(data, i, side)
		x0, y0 := pad+(i%cols)*(side+pad), pad+(i/cols)*(side+pad)
		for y := 0; y < side; y++ {
			copy(grid.Pix[(y0+y)*grid.Stride+4*x0:], img.Pix[y*img.Stride:(y+1)*img.Stride])
		}
	}
	return grid, nil
}
