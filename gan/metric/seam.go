package metric

import (
	"image"
	"image/color"
	"math"
)

// SeamScore measures how visible the wrap-around seams of a tile are: the mean absolute
// pixel step across the wrap edges (last column to first column, last row to first row),
// divided by the mean absolute step between neighbouring interior pixels (horizontal and
// vertical neighbours). 1.0 means the seam is as smooth as the interior; a random crop of a
// photo scores well above 1.
//
// A step is the mean over R, G and B of the absolute difference of the non-premultiplied
// 16-bit colour values scaled to [0, 1]; alpha is ignored. Images narrower or lower than
// 2 px have no interior steps in one direction and score 1, as does a uniform image. A
// score of +Inf (seam steps but no interior steps) cannot occur for such grids, but is
// what the definition would give.
func SeamScore(img image.Image) float64 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 2 || h < 2 {
		return 1
	}
	planes := [3][]float64{make([]float64, w*h), make([]float64, w*h), make([]float64, w*h)}
	if m, ok := img.(*image.NRGBA); ok { // fast path, same values: 0x101*v/0xffff = v/255
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			for x := range w {
				i := y*w + x
				planes[0][i] = float64(row[4*x]) / 0xff
				planes[1][i] = float64(row[4*x+1]) / 0xff
				planes[2][i] = float64(row[4*x+2]) / 0xff
			}
		}
		return seamScore(planes[:], w, h)
	}
	for y := range h {
		for x := range w {
			c := color.NRGBA64Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA64)
			i := y*w + x
			planes[0][i] = float64(c.R) / 0xffff
			planes[1][i] = float64(c.G) / 0xffff
			planes[2][i] = float64(c.B) / 0xffff
		}
	}
	return seamScore(planes[:], w, h)
}

// SeamScoreImages is SeamScore for image i of a batch, with values mapped from [-1, 1]
// to [0, 1] (a grayscale image counts as three equal channels). It returns NaN if im is
// malformed (see Images.Validate; values are not checked) or i is out of range.
func SeamScoreImages(im Images, i int) float64 {
	if im.validateShape() != nil || i < 0 || i >= im.N {
		return math.NaN()
	}
	if im.W < 2 || im.H < 2 {
		return 1
	}
	size := im.H * im.W
	planes := make([][]float64, im.C)
	for c := range planes {
		src := im.Data[(i*im.C+c)*size : (i*im.C+c+1)*size]
		planes[c] = make([]float64, size)
		for j, v := range src {
			planes[c][j] = (float64(v) + 1) / 2
		}
	}
	return seamScore(planes, im.W, im.H)
}

// seamScore computes the score for w x h planes of equal size, w, h >= 2.
func seamScore(planes [][]float64, w, h int) float64 {
	var seam, inner float64
	for _, p := range planes {
		for y := range h {
			row := p[y*w : (y+1)*w]
			for x := 1; x < w; x++ {
				inner += math.Abs(row[x] - row[x-1])
			}
			seam += math.Abs(row[0] - row[w-1])
		}
		for y := 1; y < h; y++ {
			row, prev := p[y*w:(y+1)*w], p[(y-1)*w:y*w]
			for x, v := range row {
				inner += math.Abs(v - prev[x])
			}
		}
		first, last := p[:w], p[(h-1)*w:]
		for x, v := range first {
			seam += math.Abs(v - last[x])
		}
	}
	// Both sums cover all channels, so the channel counts cancel in the ratio.
	seamMean := seam / float64(h+w)
	innerMean := inner / float64(h*(w-1)+w*(h-1))
	if innerMean == 0 {
		if seamMean == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return seamMean / innerMean
}
