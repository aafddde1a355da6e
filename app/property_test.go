package app

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"tessera/gan/train"
)

// TestSessionRandomControls presses start, pause, resume, stop, continue and open in rapid random
// sequences (as an impatient user might); whatever the sequence, the session must end in a
// consistent state: not busy after Close, with a loadable checkpoint for every run it started.
func TestSessionRandomControls(t *testing.T) {
	for trial := 0; trial < 3; trial++ {
		rng := rand.New(rand.NewSource(int64(trial)))
		w := newWatcher()
		s := NewSession(w.invalidate)
		if err := s.LoadData(train.BuiltinSource, 8, false); err != nil {
			t.Fatal(err)
		}
		w.waitFor(t, s, "data", func(n *Snapshot) bool { return n.Data != nil && !n.State.Busy() })
		runs := t.TempDir()
		for i := 0; i < 40; i++ {
			switch rng.Intn(6) {
			case 0:
				s.Start(tinyConfig(), runs)
			case 1:
				s.Pause()
			case 2:
				s.Resume()
			case 3:
				s.Stop()
			case 4:
				s.Continue()
			case 5:
				if d := s.Snapshot().RunDir; d != "" && !s.Snapshot().State.Busy() {
					s.Open(d)
				}
			}
		}
		s.Close()
		snap := s.Snapshot()
		if snap.State.Busy() {
			t.Fatalf("trial %d: busy after Close: %v", trial, snap.State)
		}
		if snap.State == Failed {
			t.Fatalf("trial %d: failed: %v", trial, snap.Err)
		}
		entries, _ := os.ReadDir(runs)
		for _, e := range entries {
			if _, err := train.ReadCheckpoint(filepath.Join(runs, e.Name(), train.CheckpointFile)); err != nil {
				t.Errorf("trial %d: run %s: %v", trial, e.Name(), err)
			}
		}
	}
}
