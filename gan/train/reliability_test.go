package train

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDivergenceRollsBack poisons the generator with a NaN mid-run: the runner must notice it
// within an iteration, go back to the last checkpoint with half the learning rate, say so in the
// metrics log, never write a NaN checkpoint, and finish the schedule.
func TestDivergenceRollsBack(t *testing.T) {
	cases := []struct {
		name   string
		poison func(tr *Trainer)
		why    []string // the rollback message mentions one of these
	}{
		{"NaN weight", func(tr *Trainer) { tr.G.Data(tr.G.Names()[0])[0] = float32(math.NaN()) }, []string{"NaN", "not finite"}},
		// a critic whose scores run off to 1e5: finite, but far beyond what the drift term allows
		{"runaway critic", func(tr *Trainer) { tr.D.Data("d4.dense1.b")[0] = 1e5 }, []string{"ran away"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { testRollback(t, c.poison, c.why) })
	}
}

func testRollback(t *testing.T, poison func(*Trainer), why []string) {
	cfg := tinyConfig()
	cfg.Schedule = Schedule{Stabilize: 16, Fade: 16, Final: 16}
	tr, err := New(cfg, dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	poisoned, rolledBack := false, ""
	var r *Runner
	r, err = NewRunner(tr, RunOptions{Dir: dir, OnEvent: func(e Event) {
		switch e.Kind {
		case EventProgress:
			if !poisoned && e.Trainer.Images >= 24 {
				poisoned = true
				poison(e.Trainer)
			}
		case EventRollback:
			rolledBack = e.Message
		case EventCheckpoint:
			ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
			if err != nil {
				t.Errorf("checkpoint unreadable after writing: %v", err)
			} else if ck.Images > 0 {
				tt, _ := Resume(ck, nil)
				if n := tt.nonFinite(); n != "" {
					t.Errorf("a checkpoint with non-finite weights was written (%s)", n)
				}
			}
		}
	}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !poisoned || rolledBack == "" {
		t.Fatalf("poisoned %t, rollback message %q", poisoned, rolledBack)
	}
	saysWhy := false
	for _, w := range why {
		saysWhy = saysWhy || strings.Contains(rolledBack, w)
	}
	if !saysWhy || !strings.Contains(rolledBack, "halved") {
		t.Errorf("rollback message %q should say why (%q) and what was done", rolledBack, why)
	}
	if !r.T.Phase().Done {
		t.Errorf("the run did not finish after the rollback: %v", r.T.Phase())
	}
	if got := r.T.Config().LR; got != cfg.LR/2 {
		t.Errorf("learning rate after one rollback %g, want %g", got, cfg.LR/2)
	}
	log, _ := os.ReadFile(filepath.Join(dir, MetricsFile))
	if !strings.Contains(string(log), "rolled back") {
		t.Error("the metrics log does not record the rollback")
	}
	ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil || ck.Config.LR != cfg.LR/2 {
		t.Fatalf("final checkpoint: %v, lr %g", err, ck.Config.LR)
	}
}

// TestUnwritableRunDirectoryWaits: when the checkpoint cannot be written the runner reports it and
// waits (no training on unsaved work), and leaves no partial file behind.
func TestUnwritableRunDirectoryWaits(t *testing.T) {
	cfg := tinyConfig()
	tr, err := New(cfg, dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stalled := ""
	r, err := NewRunner(tr, RunOptions{Dir: dir, RetryEvery: time.Millisecond, CheckpointEvery: time.Nanosecond, OnEvent: func(e Event) {
		if e.Kind == EventStalled && stalled == "" {
			stalled = e.Message
			imagesAtStall := e.Trainer.Images
			go func() { // let it retry a little, then give up
				time.Sleep(20 * time.Millisecond)
				cancel()
			}()
			_ = imagesAtStall
		}
		if e.Kind == EventProgress && e.Trainer.Images >= 8 {
			// the run directory disappears (a removed disk, a deleted folder)
			os.RemoveAll(dir)
			os.WriteFile(dir, []byte("not a directory"), 0o644)
		}
	}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	err = r.Run(ctx)
	if stalled == "" {
		t.Fatalf("no stall was reported (err %v)", err)
	}
	if err == nil || !strings.Contains(err.Error(), "could not be written") {
		t.Errorf("Run returned %v, want an error saying the checkpoint could not be written", err)
	}
	if !strings.Contains(stalled, "retries") {
		t.Errorf("stall message %q", stalled)
	}
}

// TestDiskFull fills a small tmpfs: the checkpoint write fails cleanly, no truncated or
// temporary file remains, and the previous checkpoint is intact. It needs permission to mount.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v: %s)", err, out)
	}
	defer exec.Command("umount", dir).Run()
	tr, err := New(tinyConfig(), dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	steps(t, tr, 1)
	path := filepath.Join(dir, CheckpointFile)
	if err := WriteCheckpoint(path, tr.Checkpoint(0)); err != nil {
		t.Fatalf("the first checkpoint should fit: %v", err)
	}
	before, _ := os.ReadFile(path)
	// fill the rest of the disk
	filler, _ := os.Create(filepath.Join(dir, "filler"))
	buf := make([]byte, 4096)
	for {
		if _, err := filler.Write(buf); err != nil {
			break
		}
	}
	filler.Close()
	steps(t, tr, 1)
	err = WriteCheckpoint(path, tr.Checkpoint(0))
	if err == nil {
		t.Fatal("writing to a full disk succeeded")
	}
	if !errors.Is(err, errNoSpace()) && !strings.Contains(err.Error(), "no space") {
		t.Logf("error: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Error("the previous checkpoint was changed by the failed write")
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != CheckpointFile && e.Name() != "filler" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if _, err := ReadCheckpoint(path); err != nil {
		t.Errorf("the previous checkpoint no longer loads: %v", err)
	}
}

func errNoSpace() error { return errors.New("no space left on device") }

// FuzzDecodeCheckpoint: no input makes checkpoint loading panic or accept garbage silently.
func FuzzDecodeCheckpoint(f *testing.F) {
	tr, err := New(tinyConfig(), nil)
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	path := filepath.Join(dir, "c.tsr")
	if err := WriteCheckpoint(path, tr.Checkpoint(0)); err != nil {
		f.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	f.Add(good)
	f.Add(good[:40])
	f.Add([]byte("TESSERA-CKPT\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x04abcd\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= 28 && string(b[:12]) == checkpointMagic {
			// make the length and checksum agree half the time, so that the payload decoder
			// is fuzzed too and not only the framing
			if b[len(b)-1]&1 == 0 {
				b = append([]byte(nil), b...)
				binary.BigEndian.PutUint64(b[16:24], uint64(len(b)-28))
				binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[24:len(b)-4]))
			}
		}
		c, err := DecodeCheckpoint(b)
		if err == nil && c.validate() != nil {
			t.Fatal("accepted an invalid checkpoint")
		}
	})
}
