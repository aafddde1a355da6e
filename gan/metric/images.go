package metric

import (
	"fmt"
	"math"
)

// Images is a batch of images in NCHW layout, float32 values in [-1, 1] (the GAN's range).
// C is 1 (grayscale, treated as RGB with three equal channels) or 3 (RGB).
type Images struct {
	N, C, H, W int
	Data       []float32 // len N*C*H*W
}

// Validate reports whether im is a well-formed batch: positive sizes, C of 1 or 3, Data of
// length N*C*H*W and only finite values (NaN or Inf usually means a diverged generator).
// Values outside [-1, 1] are accepted.
func (im Images) Validate() error {
	if err := im.validateShape(); err != nil {
		return err
	}
	for i, v := range im.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("invalid images: Data[%d] is %v", i, v)
		}
	}
	return nil
}

// validateShape is Validate without the scan for non-finite values.
func (im Images) validateShape() error {
	if im.N <= 0 || im.H <= 0 || im.W <= 0 {
		return fmt.Errorf("invalid images: sizes must be positive, got N=%d H=%d W=%d", im.N, im.H, im.W)
	}
	if im.C != 1 && im.C != 3 {
		return fmt.Errorf("invalid images: C must be 1 or 3, got %d", im.C)
	}
	if want := im.N * im.C * im.H * im.W; len(im.Data) != want {
		return fmt.Errorf("invalid images: len(Data) is %d, want N*C*H*W = %d*%d*%d*%d = %d",
			len(im.Data), im.N, im.C, im.H, im.W, want)
	}
	return nil
}

// head returns the first n images of im (n <= im.N), sharing Data.
func (im Images) head(n int) Images {
	im.Data = im.Data[:n*im.C*im.H*im.W]
	im.N = n
	return im
}
