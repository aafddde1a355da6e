package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"tessera/gan/model"
	"tessera/gan/train"
)

func tinyConfig() train.Config {
	cfg := train.DefaultConfig()
	cfg.Model = model.Config{MaxRes: 8, Channels: map[int]int{4: 8, 8: 6}, StyleDim: 6, NoiseDim: 2, MbstdGroup: 4}
	cfg.Batch = 4
	cfg.Schedule = train.Schedule{Stabilize: 40, Fade: 40, Final: 4000}
	cfg.Crop.Source = 64
	return cfg
}

// watcher turns the session's invalidate calls into a channel, so tests wait for conditions on
// snapshots without sleeping.
type watcher struct{ ch chan struct{} }

func newWatcher() *watcher { return &watcher{ch: make(chan struct{}, 1)} }

func (w *watcher) invalidate() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

func (w *watcher) waitFor(t *testing.T, s *Session, what string, cond func(*Snapshot) bool) *Snapshot {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		if snap := s.Snapshot(); cond(snap) {
			return snap
		}
		select {
		case <-w.ch:
		case <-deadline:
			snap := s.Snapshot()
			t.Fatalf("timed out waiting for %s (state %v, err %v, log %v)", what, snap.State, snap.Err, snap.Log)
		}
	}
}

func TestSessionLifecycle(t *testing.T) {
	w := newWatcher()
	s := NewSession(w.invalidate)
	defer s.Close()
	if err := s.Start(tinyConfig(), t.TempDir()); err == nil {
		t.Fatal("Start without data should fail")
	}
	if err := s.LoadData(train.BuiltinSource, 8, false); err != nil {
		t.Fatal(err)
	}
	snap := w.waitFor(t, s, "data", func(n *Snapshot) bool { return n.Data != nil && !n.State.Busy() })
	if snap.State != Idle || len(snap.Data.Thumbs) != 3 || len(snap.Data.Summary.Used) != 3 {
		t.Fatalf("after loading: state %v, %d thumbnails", snap.State, len(snap.Data.Thumbs))
	}

	runs := t.TempDir()
	if err := s.Start(tinyConfig(), runs); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(tinyConfig(), runs); err == nil {
		t.Error("a second Start while training should fail")
	}
	snap = w.waitFor(t, s, "training progress", func(n *Snapshot) bool { return n.State == Training && n.Status.Iter >= 3 })
	dir := snap.RunDir

	s.Pause()
	paused := w.waitFor(t, s, "pause", func(n *Snapshot) bool { return n.State == Paused })
	if paused.Model == nil {
		t.Error("a paused session should publish its model for exploring")
	}
	s.Resume()
	w.waitFor(t, s, "progress after resume", func(n *Snapshot) bool { return n.State == Training && n.Status.Iter > paused.Status.Iter })

	s.Stop()
	s.Wait()
	stopped := s.Snapshot()
	if stopped.State != Stopped || stopped.Model == nil {
		t.Fatalf("after Stop: state %v, model %v, err %v", stopped.State, stopped.Model != nil, stopped.Err)
	}
	if _, err := os.Stat(filepath.Join(dir, train.CheckpointFile)); err != nil {
		t.Fatalf("no checkpoint after Stop: %v", err)
	}
	ck, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Images != stopped.Status.Images {
		t.Errorf("checkpoint at %d images, session reported %d", ck.Images, stopped.Status.Images)
	}

	// reopen in a new session, as after a restart
	w2 := newWatcher()
	s2 := NewSession(w2.invalidate)
	defer s2.Close()
	if err := s2.Open(dir); err != nil {
		t.Fatal(err)
	}
	re := w2.waitFor(t, s2, "reopen", func(n *Snapshot) bool { return n.State == Stopped })
	if re.Model == nil || re.Grid == nil || re.Status.Images != ck.Images || len(re.History) == 0 || re.Data == nil {
		t.Fatalf("reopened: model %v grid %v images %d history %d data %v", re.Model != nil, re.Grid != nil, re.Status.Images, len(re.History), re.Data != nil)
	}
	if err := s2.Continue(); err != nil {
		t.Fatal(err)
	}
	w2.waitFor(t, s2, "progress after continue", func(n *Snapshot) bool { return n.Status.Images > ck.Images })
	s2.Close()
	if st := s2.Snapshot().State; st != Stopped {
		t.Fatalf("after Close: %v", st)
	}
	ck2, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil || ck2.Images <= ck.Images {
		t.Fatalf("continued run's checkpoint: %v, %d images (was %d)", err, ck2.Images, ck.Images)
	}
}

func TestOpenDamagedRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, train.CheckpointFile), []byte("TESSERA-CKPT garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSession(nil)
	if err := s.Open(dir); err == nil {
		t.Fatal("opening a damaged checkpoint should fail")
	}
	if err := s.Open(t.TempDir()); err == nil {
		t.Fatal("opening an empty folder should fail")
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	s, err := LoadSettings(dir)
	if err != nil || s != DefaultSettings() {
		t.Fatalf("first start: %+v, %v", s, err)
	}
	s.LastRun, s.WindowW, s.Seed = "/x/run", 1500, 42
	if err := s.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadSettings(dir)
	if err != nil || got != s {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	os.WriteFile(filepath.Join(dir, settingsFile), []byte("{broken"), 0o644)
	got, err = LoadSettings(dir)
	if err == nil || got != DefaultSettings() {
		t.Fatalf("damaged settings: %+v, %v", got, err)
	}
	if _, err := s.TrainConfig(); err != nil {
		t.Fatalf("default settings make an invalid config: %v", err)
	}
}
