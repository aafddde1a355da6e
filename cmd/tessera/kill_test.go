package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"tessera/gan/train"
)

var kills = flag.Int("kills", 4, "SIGKILLs in the crash-safety test (the full check uses 20 or more)")

// binary is the tessera command built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "tessera-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "tessera")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building tessera: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// tiny training flags: 8 px, small widths, a schedule of a few seconds, frequent checkpoints
func tinyTrain(dir string) []string {
	return tinyTrainKimg(dir, 0.4)
}

func tinyTrainKimg(dir string, kimg float64) []string {
	return []string{"train", "--out", dir, "--max-res", "8", "--channels", "4:16,8:8", "--batch", "8",
		"--kimg-per-stage", fmt.Sprint(kimg), "--stage-scale", "none", "--checkpoint-every", "700ms", "--sample-every", "200", "--eval-samples", "16"}
}

// TestCrashSafety kills the trainer with SIGKILL at random moments (across stage switches and
// checkpoint writes), resumes it each time, and checks that every checkpoint loads, that no more
// than one checkpoint interval of work is ever lost, and that the run finishes.
func TestCrashSafety(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	const interval = 700 * time.Millisecond
	started := false
	lastImages := int64(-1)
	// the final stage grows with the number of kills, so that the run outlives them: about 4 s of
	// training per kill at the ~1300 images/s of this tiny model, where a kill comes 0.3-2.8 s
	// after a start
	finalKimg := 5 * math.Max(1, float64(*kills))
	survived := 0
	var maxLost time.Duration
	for k := 0; k < *kills; k++ {
		args := append(tinyTrainKimg(dir, 0.4), "--final-kimg", fmt.Sprint(finalKimg))
		if started {
			args = []string{"resume", dir, "--checkpoint-every", "700ms", "--sample-every", "200", "--eval-samples", "16"}
		}
		cmd := exec.Command(binary, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// wait for the run's first checkpoint, then kill it at a random moment
		ckpt := filepath.Join(dir, train.CheckpointFile)
		deadline := time.Now().Add(60 * time.Second)
		for !started {
			if _, err := os.Stat(ckpt); err == nil {
				started = true
			} else if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no first checkpoint within 60 s")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(300+rng.Intn(2500)) * time.Millisecond)
		killedAt := time.Now()
		cmd.Process.Kill()
		err := cmd.Wait()
		if err == nil {
			t.Logf("the run finished before kill %d", k+1)
			break
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("kill %d: the trainer ended by itself with %v, not by the kill", k+1, err)
		}
		survived++
		info, err := os.Stat(ckpt)
		if err != nil {
			t.Fatalf("kill %d: no checkpoint: %v", k+1, err)
		}
		ck, err := train.ReadCheckpoint(ckpt)
		if err != nil {
			t.Fatalf("kill %d: the checkpoint does not load: %v", k+1, err)
		}
		if ck.Images < lastImages {
			t.Fatalf("kill %d: the checkpoint went back from %d to %d images", k+1, lastImages, ck.Images)
		}
		lastImages = ck.Images
		// work lost: the time between the last checkpoint and the kill (a checkpoint is due every
		// interval; an iteration, a stage switch or an evaluation may delay it by a little)
		lost := killedAt.Sub(info.ModTime())
		maxLost = max(maxLost, lost)
		if lost > interval+3*time.Second {
			t.Errorf("kill %d: %v of work lost, more than one checkpoint interval (%v) plus an iteration", k+1, lost, interval)
		}
		t.Logf("kill %d: checkpoint at %d images, written %s before the kill", k+1, ck.Images, killedAt.Sub(info.ModTime()).Round(time.Millisecond))
	}
	t.Logf("%d kills survived; at most %v of work lost (checkpoint interval %v)", survived, maxLost.Round(time.Millisecond), interval)
	if survived < *kills*3/4 {
		t.Errorf("only %d of %d kills hit a running trainer", survived, *kills)
	}
	out, err := exec.Command(binary, "resume", dir, "--eval-samples", "16").CombinedOutput()
	if err != nil {
		t.Fatalf("the final resume failed: %v\n%s", err, out)
	}
	ck, err := train.ReadCheckpoint(filepath.Join(dir, train.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := train.Resume(ck, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Phase().Done {
		t.Fatalf("the run did not finish: %v (%d images)", tr.Phase(), ck.Images)
	}
}

// TestSignalsSaveCheckpoint: SIGINT and SIGTERM stop training with a fresh checkpoint and exit code 130.
func TestSignalsSaveCheckpoint(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		dir := filepath.Join(t.TempDir(), "run")
		args := append(tinyTrain(dir), "--checkpoint-every", "1h")
		cmd := exec.Command(binary, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ckpt := filepath.Join(dir, train.CheckpointFile)
		deadline := time.Now().Add(60 * time.Second)
		var first time.Time
		for {
			if info, err := os.Stat(ckpt); err == nil {
				first = info.ModTime()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no first checkpoint")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(1500 * time.Millisecond) // let it train past the first checkpoint
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
			t.Fatalf("%v: exit %v, want %d", sig, err, exitInterrupted)
		}
		info, err := os.Stat(ckpt)
		if err != nil || !info.ModTime().After(first) {
			t.Fatalf("%v: no checkpoint written at the signal (%v)", sig, err)
		}
		if _, err := train.ReadCheckpoint(ckpt); err != nil {
			t.Fatalf("%v: %v", sig, err)
		}
	}
}

// TestExitCodes checks the documented exit codes of usage, data and checkpoint errors.
func TestExitCodes(t *testing.T) {
	empty := t.TempDir()
	notes := t.TempDir()
	os.WriteFile(filepath.Join(notes, "a.jpg"), []byte("not a jpeg"), 0o644)
	badRun := t.TempDir()
	os.WriteFile(filepath.Join(badRun, train.CheckpointFile), []byte("garbage"), 0o644)
	cases := []struct {
		args []string
		code int
	}{
		{[]string{}, exitUsage},
		{[]string{"nonsense"}, exitUsage},
		{[]string{"train"}, exitUsage},
		{[]string{"train", "--help"}, exitOK},
		{[]string{"train", "--out", t.TempDir(), "--batch", "7"}, exitUsage},
		{[]string{"data", "/nonexistent/folder"}, exitData},
		{[]string{"data", empty}, exitData},
		{[]string{"data", notes}, exitData},
		{[]string{"data", train.BuiltinSource}, exitOK},
		{[]string{"resume", badRun}, exitCheckpoint},
		{[]string{"sample", empty, "--out", filepath.Join(empty, "x.png")}, exitCheckpoint},
	}
	for _, c := range cases {
		err := exec.Command(binary, c.args...).Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		if code != c.code {
			t.Errorf("tessera %v: exit %d, want %d", c.args, code, c.code)
		}
	}
}
