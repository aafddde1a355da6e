package train

import (
	"fmt"
	"math"

	"tessera/gan/model"
)

// Schedule says how many real images the critic sees in each phase. Progressive training runs
// stage 0 (4 px) for Stabilize images, then for each later stage Fade images while the new
// layers fade in (alpha 0 -> 1) and Stabilize images at alpha 1. The last stage then continues
// for Final more images (0: until stopped). Fixed mode trains the final resolution only, for
// Stabilize+Final images.
//
// Scale multiplies the fade and stabilise lengths of the stages at the listed resolutions (1
// where absent): low-resolution images cost a fraction of high-resolution ones, so longer early
// stages buy the coarse layout of the texture cheaply.
type Schedule struct {
	Stabilize int64           `json:"stabilize"`
	Fade      int64           `json:"fade"`
	Final     int64           `json:"final"`
	Scale     map[int]float64 `json:"scale,omitempty"`
}

// scaled returns n images scaled for stage resolution res.
func (s Schedule) scaled(n int64, res int) int64 {
	if f, ok := s.Scale[res]; ok {
		return int64(math.Round(float64(n) * f))
	}
	return n
}

// Phase is where training is at a point of the schedule.
type Phase struct {
	Stage    int     `json:"stage"`     // 0 is 4 px
	Res      int     `json:"res"`       // training resolution
	Alpha    float64 `json:"alpha"`     // fade-in of the newest layers (1 when stable)
	Fading   bool    `json:"fading"`    // the newest layers are fading in
	Done     bool    `json:"done"`      // the schedule is complete
	StageEnd int64   `json:"stage_end"` // images seen when this stage ends (-1: open-ended)
}

func (p Phase) String() string {
	if p.Fading {
		return fmt.Sprintf("%d px (fade-in %.0f%%)", p.Res, 100*p.Alpha)
	}
	return fmt.Sprintf("%d px", p.Res)
}

// Mode selects progressive growing or the fixed-resolution baseline.
type Mode string

const (
	Progressive Mode = "progressive"
	Fixed       Mode = "fixed"
)

// Plan is a schedule applied to an architecture.
type Plan struct {
	Mode     Mode
	Schedule Schedule
	Res      []int // stage resolutions
}

// NewPlan returns the plan for cfg.
func NewPlan(mode Mode, s Schedule, cfg model.Config) (Plan, error) {
	if s.Stabilize < 1 || s.Fade < 0 || s.Final < 0 {
		return Plan{}, fmt.Errorf("schedule: stabilize %d, fade %d, final %d images", s.Stabilize, s.Fade, s.Final)
	}
	switch mode {
	case Progressive:
		if s.Fade < 1 {
			return Plan{}, fmt.Errorf("schedule: progressive training needs fade-in images")
		}
		for r, f := range s.Scale { // (resolutions above the final one are not used)
			switch {
			case r < model.BaseRes || r&(r-1) != 0:
				return Plan{}, fmt.Errorf("schedule: stage scale for %d px, which is not a stage resolution (4, 8, 16, ...)", r)
			case !(f > 0) || f > 1000 || s.scaled(s.Stabilize, r) < 1 || (r > model.BaseRes && s.scaled(s.Fade, r) < 1):
				return Plan{}, fmt.Errorf("schedule: stage scale %g at %d px (want a positive factor that leaves the stage at least one image of fade-in and one of stabilisation)", f, r)
			}
		}
		return Plan{Mode: mode, Schedule: s, Res: cfg.Resolutions()}, nil
	case Fixed:
		return Plan{Mode: mode, Schedule: s, Res: []int{cfg.MaxRes}}, nil
	}
	return Plan{}, fmt.Errorf("unknown mode %q (progressive or fixed)", mode)
}

// stageLen is the number of images of stage i (the last stage's open end excluded).
func (p Plan) stageLen(i int) int64 {
	if p.Mode == Fixed {
		return p.Schedule.Stabilize
	}
	return p.fadeLen(i) + p.Schedule.scaled(p.Schedule.Stabilize, p.Res[i])
}

// fadeLen is the number of images of stage i's fade-in (none for the first stage).
func (p Plan) fadeLen(i int) int64 {
	if i == 0 || p.Mode == Fixed {
		return 0
	}
	return p.Schedule.scaled(p.Schedule.Fade, p.Res[i])
}

// FadeLen is the number of images of stage i's fade-in (0 for the first stage and fixed mode).
func (p Plan) FadeLen(i int) int64 { return p.fadeLen(i) }

// Total is the number of images of the whole schedule (0 if open-ended).
func (p Plan) Total() int64 {
	if p.Schedule.Final == 0 {
		return 0
	}
	var t int64
	for i := range p.Res {
		t += p.stageLen(i)
	}
	return t + p.Schedule.Final
}

// StageStart returns the number of images seen when stage i starts.
func (p Plan) StageStart(i int) int64 {
	var t int64
	for j := 0; j < i && j < len(p.Res); j++ {
		t += p.stageLen(j)
	}
	return t
}

// At returns the phase after `seen` images.
func (p Plan) At(seen int64) Phase {
	start := int64(0)
	last := len(p.Res) - 1
	for i, res := range p.Res {
		n := p.stageLen(i)
		end := start + n
		if i == last {
			if p.Schedule.Final > 0 {
				end += p.Schedule.Final
			} else {
				end = -1
			}
		}
		if end < 0 || seen < end {
			ph := Phase{Stage: i, Res: res, Alpha: 1, StageEnd: end}
			if fade := p.fadeLen(i); seen-start < fade {
				ph.Fading = true
				ph.Alpha = float64(seen-start) / float64(fade)
			}
			return ph
		}
		start = end
	}
	return Phase{Stage: last, Res: p.Res[last], Alpha: 1, Done: true, StageEnd: start}
}
