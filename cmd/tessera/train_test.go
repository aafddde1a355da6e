package main

import (
	"math"
	"reflect"
	"testing"
)

func TestParseScale(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[int]float64
		bad  bool
	}{
		{in: "none"},
		{in: ""},
		{in: "8:2,16:3", want: map[int]float64{8: 2, 16: 3}},
		{in: "4:1.5", want: map[int]float64{4: 1.5}},
		{in: "8:0", bad: true},
		{in: "8:-1", bad: true},
		{in: "8", bad: true},
		{in: "2:2", bad: true},
		{in: "8:x", bad: true},
	} {
		got, err := parseScale(c.in)
		if (err != nil) != c.bad {
			t.Errorf("parseScale(%q) error %v, want error %t", c.in, err, c.bad)
			continue
		}
		if !c.bad && !reflect.DeepEqual(got, c.want) {
			t.Errorf("parseScale(%q) = %v, want %v", c.in, got, c.want)
		}
		if !c.bad && c.want != nil {
			if back, _ := parseScale(formatScale(got)); !reflect.DeepEqual(back, got) {
				t.Errorf("formatScale(%v) = %q does not parse back", got, formatScale(got))
			}
		}
	}
	if s := formatScale(map[int]float64{16: 3, 8: 2}); s != "8:2,16:3" {
		t.Errorf("formatScale = %q, want resolutions in order", s)
	}
}

func TestHalfLife(t *testing.T) {
	// beta 0.999 at batch 16: half of the weight is older than ln(0.5)/ln(0.999) steps of 16 images
	if got := halfLifeKimg(0.999, 16); math.Abs(got-11.085) > 1e-9 {
		t.Errorf("halfLifeKimg(0.999, 16) = %g, want 11.085", got)
	}
	beta := math.Pow(0.5, 16/1500.0)
	if got := halfLifeKimg(beta, 16); math.Abs(got-1.5) > 1e-9 {
		t.Errorf("half-life of the beta for 1.5 kimg = %g", got)
	}
}

func TestParseLatent(t *testing.T) {
	for _, c := range []struct {
		in           string
		style, noise int
		bad          bool
	}{
		{in: "32:96", style: 32, noise: 96},
		{in: "128:0", style: 128},
		{in: "0:96", bad: true},
		{in: "32:-1", bad: true},
		{in: "32", bad: true},
		{in: "32:96x", bad: true},
		{in: "", bad: true},
	} {
		s, n, err := parseLatent(c.in)
		if (err != nil) != c.bad || s != c.style || n != c.noise {
			t.Errorf("parseLatent(%q) = %d, %d, %v; want %d, %d, error %t", c.in, s, n, err, c.style, c.noise, c.bad)
		}
	}
}
