package ui

import (
	"image"

	"tessera/gan/metric"
)

func seamOf(img image.Image) float64 { return metric.SeamScore(img) }
