package train

import (
	"fmt"
	"math"

	"tessera/gan/ops"
)

// Adam is the Adam optimiser (Kingma & Ba) over flat float32 parameter slices, with its state
// exported so that checkpoints resume it exactly. (gorgonia's solvers keep their moment
// estimates private, so a run could not be resumed with them.)
type Adam struct {
	LR, Beta1, Beta2, Eps float64
	Step                  int64                // updates applied
	M, V                  map[string][]float32 // moment estimates per parameter
}

// NewAdam returns an Adam optimiser with empty state.
func NewAdam(lr, beta1, beta2, eps float64) *Adam {
	return &Adam{LR: lr, Beta1: beta1, Beta2: beta2, Eps: eps, M: map[string][]float32{}, V: map[string][]float32{}}
}

// Update applies one step to the named parameters w given their gradients g.
func (a *Adam) Update(names []string, w, g [][]float32) error {
	a.Step++
	c1 := 1 - math.Pow(a.Beta1, float64(a.Step))
	c2 := 1 - math.Pow(a.Beta2, float64(a.Step))
	lr := float32(a.LR * math.Sqrt(c2) / c1)
	b1, b2, eps := float32(a.Beta1), float32(a.Beta2), float32(a.Eps*math.Sqrt(c2))
	for i, n := range names {
		if len(w[i]) != len(g[i]) {
			return fmt.Errorf("adam: %s: %d weights, %d gradients", n, len(w[i]), len(g[i]))
		}
		m, v := a.M[n], a.V[n]
		if m == nil && v == nil {
			m, v = make([]float32, len(w[i])), make([]float32, len(w[i]))
			a.M[n], a.V[n] = m, v
		}
		if len(m) != len(w[i]) || len(v) != len(w[i]) {
			return fmt.Errorf("adam: %s: state of %d and %d values for %d weights", n, len(m), len(v), len(w[i]))
		}
		wi, gi := w[i], g[i]
		ops.ParallelFor(len(gi), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := gi[j]
				m[j] = b1*m[j] + (1-b1)*gj
				v[j] = b2*v[j] + (1-b2)*gj*gj
				wi[j] -= lr * m[j] / (float32(math.Sqrt(float64(v[j]))) + eps)
			}
		})
	}
	return nil
}

// RMSProp is the RMSProp optimiser used by the original WGAN (weight clipping), with exported
// state.
type RMSProp struct {
	LR, Decay, Eps float64
	Step           int64
	V              map[string][]float32
}

// NewRMSProp returns an RMSProp optimiser with empty state.
func NewRMSProp(lr float64) *RMSProp {
	return &RMSProp{LR: lr, Decay: 0.99, Eps: 1e-8, V: map[string][]float32{}}
}

// Update applies one step.
func (r *RMSProp) Update(names []string, w, g [][]float32) error {
	r.Step++
	lr, d, eps := float32(r.LR), float32(r.Decay), float32(r.Eps)
	for i, n := range names {
		if len(w[i]) != len(g[i]) {
			return fmt.Errorf("rmsprop: %s: %d weights, %d gradients", n, len(w[i]), len(g[i]))
		}
		v := r.V[n]
		if v == nil {
			v = make([]float32, len(w[i]))
			r.V[n] = v
		}
		if len(v) != len(w[i]) {
			return fmt.Errorf("rmsprop: %s: state of %d values for %d weights", n, len(v), len(w[i]))
		}
		wi, gi := w[i], g[i]
		ops.ParallelFor(len(gi), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := gi[j]
				v[j] = d*v[j] + (1-d)*gj*gj
				wi[j] -= lr * gj / (float32(math.Sqrt(float64(v[j]))) + eps)
			}
		})
	}
	return nil
}

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	Update(names []string, w, g [][]float32) error
}
