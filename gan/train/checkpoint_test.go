package train

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"tessera/gan/data"
	"tessera/gan/model"
)

// tinyConfig is a configuration small enough to train a few iterations in a test.
func tinyConfig() Config {
	cfg := DefaultConfig()
	cfg.Model = model.Config{MaxRes: 8, Channels: map[int]int{4: 8, 8: 6}, StyleDim: 6, NoiseDim: 2, MbstdGroup: 4}
	cfg.Batch = 4
	cfg.Schedule = Schedule{Stabilize: 8, Fade: 8, Final: 16}
	cfg.Crop.Source = 64
	return cfg
}

var testData *data.Dataset

func dataset(t testing.TB) *data.Dataset {
	t.Helper()
	if testData == nil {
		ds, err := LoadData(context.Background(), BuiltinSource, data.DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		testData = ds
	}
	return testData
}

func steps(t testing.TB, tr *Trainer, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := tr.Step(context.Background()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
}

// TestResumeEqualsUninterrupted trains 6 iterations straight, and 3 + checkpoint + resume + 3,
// across a stage switch and a fade, and requires bit-identical weights and optimiser states.
func TestResumeEqualsUninterrupted(t *testing.T) {
	for _, loss := range []Loss{WGANGP, WGANClip} {
		t.Run(string(loss), func(t *testing.T) {
			cfg := tinyConfig().WithLoss(loss)
			n := 6
			if loss == WGANClip {
				cfg.Schedule = Schedule{Stabilize: 24, Fade: 24, Final: 40}
				n = 4
			}
			a, err := New(cfg, dataset(t))
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			steps(t, a, n)

			b, err := New(cfg, dataset(t))
			if err != nil {
				t.Fatal(err)
			}
			steps(t, b, n/2)
			path := filepath.Join(t.TempDir(), CheckpointFile)
			if err := WriteCheckpoint(path, b.Checkpoint(time.Second)); err != nil {
				t.Fatal(err)
			}
			b.Close()
			ck, err := ReadCheckpoint(path)
			if err != nil {
				t.Fatal(err)
			}
			c, err := Resume(ck, dataset(t))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Phase() != b.Phase() || c.Images != b.Images {
				t.Fatalf("resumed at %+v (%d images), saved at %+v (%d images)", c.Phase(), c.Images, b.Phase(), b.Images)
			}
			steps(t, c, n-n/2)
			if a.Images != c.Images || a.Iter != c.Iter || a.Phase() != c.Phase() {
				t.Fatalf("positions differ: %d/%d/%v vs %d/%d/%v", a.Images, a.Iter, a.Phase(), c.Images, c.Iter, c.Phase())
			}
			if a.Phase().Stage == 0 {
				t.Fatalf("the run did not cross a stage switch: %v", a.Phase())
			}
			for _, set := range []struct {
				name string
				x, y *model.Params
			}{{"G", a.G, c.G}, {"D", a.D, c.D}, {"EMA", a.GEMA, c.GEMA}} {
				for _, name := range set.x.Names() {
					if !reflect.DeepEqual(set.x.Data(name), set.y.Data(name)) {
						t.Errorf("%s %s differs between the resumed and the uninterrupted run", set.name, name)
					}
				}
			}
			if !reflect.DeepEqual(optState(a.optD), optState(c.optD)) || !reflect.DeepEqual(optState(a.optG), optState(c.optG)) {
				t.Errorf("optimiser states differ")
			}
		})
	}
}

func TestCheckpointRoundTripAndDamage(t *testing.T) {
	tr, err := New(tinyConfig(), dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	steps(t, tr, 2)
	ck := tr.Checkpoint(3 * time.Second)
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointFile)
	if err := WriteCheckpoint(path, ck); err != nil {
		t.Fatal(err)
	}
	got, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.G, ck.G) || !reflect.DeepEqual(got.OptD, ck.OptD) || got.Images != ck.Images ||
		got.Elapsed != ck.Elapsed || got.Data != ck.Data || !reflect.DeepEqual(got.Config, ck.Config) {
		t.Fatal("checkpoint does not round-trip")
	}
	if got.Data.Fingerprint == "" || got.Data.Source != BuiltinSource {
		t.Errorf("dataset record %+v", got.Data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("the atomic write left files behind: %v", entries)
	}

	good, _ := os.ReadFile(path)
	flip := append([]byte(nil), good...)
	flip[len(flip)/2] ^= 0x40
	version := append([]byte(nil), good...)
	version[15] = 9
	cases := []struct {
		name string
		b    []byte
		want string
	}{
		{"flipped bit", flip, "checksum mismatch"},
		{"truncated", good[:len(good)-100], "truncated"},
		{"header only", good[:20], "truncated header"},
		{"other version", version, "format version 9"},
		{"not a checkpoint", []byte("PK\x03\x04 a zip file"), "not a Tessera checkpoint"},
		{"empty", nil, "not a Tessera checkpoint"},
	}
	for _, c := range cases {
		_, err := DecodeCheckpoint(c.b)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	// a well-framed checkpoint whose optimiser state does not fit the weights
	short := *ck
	short.OptD.M = map[string][]float32{}
	for n, m := range ck.OptD.M {
		short.OptD.M[n] = m
	}
	for n, m := range short.OptD.M {
		short.OptD.M[n] = m[:len(m)-1]
		break
	}
	shortPath := filepath.Join(t.TempDir(), CheckpointFile)
	if err := WriteCheckpoint(shortPath, &short); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCheckpoint(shortPath); err == nil || !strings.Contains(err.Error(), "optimiser state") {
		t.Errorf("short optimiser state: error %v, want it to mention the optimiser state", err)
	}
	if _, err := DecodeCheckpoint(nil); !errors.Is(err, ErrNotCheckpoint) {
		t.Errorf("empty file: %v is not ErrNotCheckpoint", err)
	}
}

func TestWriteFileAtomicLeavesNothingOnError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.png")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half a file"))
		return errors.New("disk full")
	})
	if err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v should name the file and the cause", err)
	}
	b, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if string(b) != "old" || len(entries) != 1 {
		t.Fatalf("after a failed write: content %q, files %v", b, entries)
	}
}

// TestReadCheckpointVersion1 writes a checkpoint in the version 1 format (the payload a gob of
// Checkpoint itself) and reads it back: older runs stay usable.
func TestReadCheckpointVersion1(t *testing.T) {
	tr, err := New(tinyConfig(), dataset(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	steps(t, tr, 2)
	ck := tr.Checkpoint(time.Second)
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(ck); err != nil {
		t.Fatal(err)
	}
	var head [24]byte
	copy(head[:12], checkpointMagic)
	binary.BigEndian.PutUint32(head[12:16], 1)
	binary.BigEndian.PutUint64(head[16:24], uint64(payload.Len()))
	b := append(head[:], payload.Bytes()...)
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(payload.Bytes()))
	got, err := DecodeCheckpoint(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.G, ck.G) || !reflect.DeepEqual(got.EMA, ck.EMA) || !reflect.DeepEqual(got.OptG, ck.OptG) ||
		!reflect.DeepEqual(got.Config, ck.Config) || got.Images != ck.Images {
		t.Fatal("a version 1 checkpoint does not read back")
	}
	// and the current format is smaller than version 1's per-value encoding
	path := filepath.Join(t.TempDir(), CheckpointFile)
	if err := WriteCheckpoint(path, ck); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() >= int64(len(b)) {
		t.Errorf("version 2 file %d bytes, version 1 %d", st.Size(), len(b))
	}
}
