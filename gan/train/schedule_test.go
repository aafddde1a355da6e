package train

import (
	"testing"

	"tessera/gan/model"
)

func TestSchedule(t *testing.T) {
	cfg := model.DefaultConfig() // 4, 8, 16, 32, 64
	p, err := NewPlan(Progressive, Schedule{Stabilize: 100, Fade: 50, Final: 30}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		seen   int64
		stage  int
		res    int
		alpha  float64
		fading bool
		done   bool
	}{
		{0, 0, 4, 1, false, false},
		{99, 0, 4, 1, false, false},
		{100, 1, 8, 0, true, false},    // stage 8 starts fading in
		{125, 1, 8, 0.5, true, false},  // halfway through the fade
		{149, 1, 8, 0.98, true, false}, //
		{150, 1, 8, 1, false, false},   // stable
		{249, 1, 8, 1, false, false},
		{250, 2, 16, 0, true, false},
		{550, 4, 64, 0, true, false},   // last stage: 100 + 4*150 = 700 ...
		{690, 4, 64, 1, false, false},  // ... plus Final 30 -> ends at 730
		{729, 4, 64, 1, false, false},  //
		{730, 4, 64, 1, false, true},   // done
		{10000, 4, 64, 1, false, true}, //
	}
	for _, c := range cases {
		ph := p.At(c.seen)
		if ph.Stage != c.stage || ph.Res != c.res || ph.Fading != c.fading || ph.Done != c.done || abs(ph.Alpha-c.alpha) > 1e-9 {
			t.Errorf("At(%d) = %+v, want stage %d res %d alpha %g fading %t done %t", c.seen, ph, c.stage, c.res, c.alpha, c.fading, c.done)
		}
	}
	if got := p.Total(); got != 730 {
		t.Errorf("Total = %d, want 730", got)
	}
	if got := p.StageStart(2); got != 250 {
		t.Errorf("StageStart(2) = %d, want 250", got)
	}

	open, _ := NewPlan(Progressive, Schedule{Stabilize: 100, Fade: 50}, cfg)
	if ph := open.At(1e9); ph.Done || ph.Res != 64 || ph.StageEnd != -1 {
		t.Errorf("open-ended schedule: At(1e9) = %+v", ph)
	}
	fixed, _ := NewPlan(Fixed, Schedule{Stabilize: 100, Final: 10}, cfg)
	if ph := fixed.At(0); ph.Res != 64 || ph.Fading || ph.Alpha != 1 {
		t.Errorf("fixed mode starts at %+v, want 64 px, alpha 1", ph)
	}
	if ph := fixed.At(110); !ph.Done {
		t.Errorf("fixed mode: At(110) = %+v, want done", ph)
	}
	for _, bad := range []Schedule{{Stabilize: 0, Fade: 1}, {Stabilize: 1, Fade: 0}, {Stabilize: 1, Fade: -1},
		{Stabilize: 10, Fade: 10, Scale: map[int]float64{8: 0}}, {Stabilize: 10, Fade: 10, Scale: map[int]float64{8: -1}},
		{Stabilize: 10, Fade: 10, Scale: map[int]float64{8: 0.01}}, {Stabilize: 10, Fade: 1, Scale: map[int]float64{8: 0.4}},
		{Stabilize: 10, Fade: 10, Scale: map[int]float64{12: 2}}, {Stabilize: 10, Fade: 10, Scale: map[int]float64{2: 2}}} {
		if _, err := NewPlan(Progressive, bad, cfg); err == nil {
			t.Errorf("NewPlan(%+v) accepted a bad schedule", bad)
		}
	}
}

// TestScheduleScale checks stage length multipliers: the first stage has no fade, scaled stages
// fade and stabilise for scaled lengths, and unlisted ones keep the base lengths.
func TestScheduleScale(t *testing.T) {
	cfg := model.DefaultConfig()
	p, err := NewPlan(Progressive, Schedule{Stabilize: 100, Fade: 50, Final: 30, Scale: map[int]float64{4: 2, 16: 3}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 4 px: 200; 8 px: 50 + 100; 16 px: 150 + 300; 32 px: 150; 64 px: 150 + 30
	wantStart := []int64{0, 200, 350, 800, 950}
	for i, w := range wantStart {
		if got := p.StageStart(i); got != w {
			t.Errorf("StageStart(%d) = %d, want %d", i, got, w)
		}
	}
	if got := p.Total(); got != 1130 {
		t.Errorf("Total = %d, want 1130", got)
	}
	for _, c := range []struct {
		seen   int64
		res    int
		alpha  float64
		fading bool
	}{
		{199, 4, 1, false},
		{200, 8, 0, true},
		{225, 8, 0.5, true},
		{350, 16, 0, true},
		{425, 16, 0.5, true}, // the 16 px fade lasts 150 images
		{500, 16, 1, false},
		{799, 16, 1, false},
		{800, 32, 0, true},
		{825, 32, 0.5, true},
	} {
		ph := p.At(c.seen)
		if ph.Res != c.res || ph.Fading != c.fading || abs(ph.Alpha-c.alpha) > 1e-9 {
			t.Errorf("At(%d) = %+v, want res %d alpha %g fading %t", c.seen, ph, c.res, c.alpha, c.fading)
		}
	}
	// a scale for a resolution above the final one is allowed and unused
	if q, err := NewPlan(Progressive, Schedule{Stabilize: 100, Fade: 50, Scale: map[int]float64{128: 2}}, cfg); err != nil || q.StageStart(4) != 550 {
		t.Errorf("scale at 128 px for a 64 px model: %v, last stage starts at %d", err, q.StageStart(4))
	}
	if got := p.FadeLen(0); got != 0 {
		t.Errorf("FadeLen(0) = %d, want 0", got)
	}
	if got := p.FadeLen(2); got != 150 {
		t.Errorf("FadeLen(2) = %d, want 150", got)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
