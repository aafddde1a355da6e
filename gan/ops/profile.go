package ops

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"
)

// Op timing, for the bench command: wall time per kind of op.
var (
	profMu  sync.Mutex
	profOn  bool
	profDur = map[string]time.Duration{}
	profN   = map[string]int{}
)

// SetProfiling turns op timing on or off (and clears it).
func SetProfiling(on bool) {
	profMu.Lock()
	defer profMu.Unlock()
	profOn = on
	profDur, profN = map[string]time.Duration{}, map[string]int{}
}

func profiling() bool {
	profMu.Lock()
	defer profMu.Unlock()
	return profOn
}

func record(name string, d time.Duration) {
	if i := strings.IndexByte(name, '{'); i > 0 {
		if strings.Contains(name[i:], ",circ,") {
			name = name[:i] + "Circular"
		} else {
			name = name[:i]
		}
	}
	profMu.Lock()
	profDur[name] += d
	profN[name]++
	profMu.Unlock()
}

// WriteProfile writes the op timings, largest first.
func WriteProfile(w io.Writer) {
	profMu.Lock()
	defer profMu.Unlock()
	var names []string
	var total time.Duration
	for n, d := range profDur {
		names = append(names, n)
		total += d
	}
	sort.Slice(names, func(i, j int) bool { return profDur[names[i]] > profDur[names[j]] })
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %8.0f ms %5.1f%% %6d calls\n", n, profDur[n].Seconds()*1000, 100*profDur[n].Seconds()/total.Seconds(), profN[n])
	}
	fmt.Fprintf(w, "  %-22s %8.0f ms\n", "total in ops", total.Seconds()*1000)
}
