package app

import (
	"math/rand/v2"

	"tessera/gan/data"
)

// rngOf returns a deterministic random source for (seed, k).
func rngOf(seed, k uint64) *rand.Rand { return rand.New(rand.NewPCG(data.Mix(seed, 0xa99), k)) }
