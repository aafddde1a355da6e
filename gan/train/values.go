package train

import (
	G "gorgonia.org/gorgonia"
)

// scalarValue reads a scalar node's value after a run (NaN if it has none).
func scalarValue(n *G.Node) float64 {
	switch v := n.Value().(type) {
	case *G.F32:
		return float64(*v)
	case *G.F64:
		return float64(*v)
	}
	return nan()
}
