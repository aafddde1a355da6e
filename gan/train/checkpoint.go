package train

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"tessera/gan/data"
	"tessera/gan/model"
)

// Checkpoint file format, version 2 (all integers big-endian):
//
//	offset  size  field
//	0       12    magic "TESSERA-CKPT"
//	12      4     format version (uint32) = 2
//	16      8     payload length n (uint64)
//	24      n     payload: a gob-encoded checkpointV2
//	24+n    4     CRC-32 (IEEE) of the payload
//
// Version 2 differs from version 1 only in the payload: float arrays (weights, optimiser moments)
// are raw little-endian bytes instead of gob's per-value encoding, which made reading a 44 MB
// checkpoint take a quarter of a second. Version 1 payloads are a gob-encoded Checkpoint and are
// still read.
//
// A reader refuses other magics, other versions, short files and checksum mismatches with an
// error that says which. Checkpoints are written to a temporary file in the same directory,
// synced, and renamed over the previous one, so a crash leaves either the old or the new file.
const (
	checkpointMagic   = "TESSERA-CKPT"
	CheckpointVersion = 2
)

// Checkpoint is everything needed to resume a run exactly.
type Checkpoint struct {
	Software  string // Tessera version that wrote it
	Written   time.Time
	Config    Config
	Images    int64
	Iter      int64
	StageIter int64
	OptStage  int
	Elapsed   time.Duration // training time so far
	G, D, EMA []Tensor
	OptG      OptimizerState
	OptD      OptimizerState
	Data      DataRecord
}

// Tensor is a named weight tensor.
type Tensor struct {
	Name  string
	Shape []int
	Data  []float32
}

// OptimizerState is the exported state of an Adam or RMSProp optimiser.
type OptimizerState struct {
	Kind                  string // "adam" or "rmsprop"
	LR, Beta1, Beta2, Eps float64
	Decay                 float64
	Step                  int64
	M, V                  map[string][]float32
}

// DataRecord identifies the training data.
type DataRecord struct {
	Source      string // folder path, or the name of the built-in set
	Fingerprint string
	Images      int
}

// Software is the version string written into checkpoints and PNG metadata.
var Software = "tessera 0.1"

// ErrNotCheckpoint is returned for files that are not Tessera checkpoints.
var ErrNotCheckpoint = errors.New("not a Tessera checkpoint")

// WriteCheckpoint writes c to path atomically.
func WriteCheckpoint(path string, c *Checkpoint) error {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(toWire(c)); err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	var head [24]byte
	copy(head[:12], checkpointMagic)
	binary.BigEndian.PutUint32(head[12:16], CheckpointVersion)
	binary.BigEndian.PutUint64(head[16:24], uint64(payload.Len()))
	var tail [4]byte
	binary.BigEndian.PutUint32(tail[:], crc32.ChecksumIEEE(payload.Bytes()))
	return WriteFileAtomic(path, func(w io.Writer) error {
		for _, b := range [][]byte{head[:], payload.Bytes(), tail[:]} {
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteFileAtomic writes a file through fill into a temporary file next to path, syncs it and
// renames it over path, so that readers see either the old or the complete new file, never a
// partial one. On any error the temporary file is removed and path is untouched.
func WriteFileAtomic(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = fmt.Errorf("writing %s: %w", path, err)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil { // make the rename durable
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadCheckpoint reads and verifies a checkpoint file.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := DecodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// DecodeCheckpoint parses checkpoint bytes.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	if len(b) < 12 || string(b[:12]) != checkpointMagic {
		return nil, ErrNotCheckpoint
	}
	if len(b) < 24 {
		return nil, fmt.Errorf("damaged checkpoint: truncated header")
	}
	v := binary.BigEndian.Uint32(b[12:16])
	if v != CheckpointVersion && v != 1 {
		return nil, fmt.Errorf("checkpoint format version %d; this Tessera reads versions 1 and %d", v, CheckpointVersion)
	}
	n := binary.BigEndian.Uint64(b[16:24])
	if n > uint64(len(b)-24) || uint64(len(b)-24)-n != 4 {
		return nil, fmt.Errorf("damaged checkpoint: %d payload bytes announced, %d bytes follow the header (truncated or padded file)", n, len(b)-24)
	}
	payload := b[24 : 24+n]
	if crc32.ChecksumIEEE(payload) != binary.BigEndian.Uint32(b[24+n:]) {
		return nil, fmt.Errorf("damaged checkpoint: checksum mismatch")
	}
	var c Checkpoint
	if v == 1 {
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&c); err != nil {
			return nil, fmt.Errorf("damaged checkpoint: %w", err)
		}
	} else {
		var w checkpointV2
		if err := gob.NewDecoder(bytes.NewReader(payload)).Decode(&w); err != nil {
			return nil, fmt.Errorf("damaged checkpoint: %w", err)
		}
		c = fromWire(&w)
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("damaged checkpoint: %w", err)
	}
	return &c, nil
}

func (c *Checkpoint) validate() error {
	if err := c.Config.Validate(); err != nil {
		return err
	}
	if c.Images < 0 || c.Iter < 0 {
		return fmt.Errorf("negative counters")
	}
	for _, set := range [][]Tensor{c.G, c.D, c.EMA} {
		for _, t := range set {
			size := 1
			for _, d := range t.Shape {
				size *= d
			}
			if size != len(t.Data) {
				return fmt.Errorf("tensor %s: %d values for shape %v", t.Name, len(t.Data), t.Shape)
			}
		}
	}
	for _, o := range []struct {
		net string
		ts  []Tensor
		opt OptimizerState
	}{{"generator", c.G, c.OptG}, {"critic", c.D, c.OptD}} {
		sizes := map[string]int{}
		for _, t := range o.ts {
			sizes[t.Name] = len(t.Data)
		}
		for _, state := range []map[string][]float32{o.opt.M, o.opt.V} {
			for name, v := range state {
				if n, ok := sizes[name]; !ok || n != len(v) {
					return fmt.Errorf("%s optimiser state for %s: %d values, the weights have %d", o.net, name, len(v), n)
				}
			}
		}
		if o.opt.Kind == "adam" {
			for name := range o.opt.M {
				if _, ok := o.opt.V[name]; !ok {
					return fmt.Errorf("%s optimiser state for %s: first moment without second", o.net, name)
				}
			}
			for name := range o.opt.V {
				if _, ok := o.opt.M[name]; !ok {
					return fmt.Errorf("%s optimiser state for %s: second moment without first", o.net, name)
				}
			}
		}
	}
	return nil
}

func tensorsOf(p *model.Params) []Tensor {
	var out []Tensor
	for _, n := range p.Names() {
		out = append(out, Tensor{Name: n, Shape: p.Shape(n), Data: append([]float32(nil), p.Data(n)...)})
	}
	return out
}

// loadTensors copies saved tensors into p, which must have exactly the same layout.
func loadTensors(p *model.Params, ts []Tensor) error {
	q := &model.Params{}
	for _, t := range ts {
		if err := q.Set(t.Name, t.Shape, t.Data); err != nil {
			return err
		}
	}
	return p.CopyFrom(q)
}

func optState(o Optimizer) OptimizerState {
	switch o := o.(type) {
	case *Adam:
		return OptimizerState{Kind: "adam", LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, Step: o.Step, M: o.M, V: o.V}
	case *RMSProp:
		return OptimizerState{Kind: "rmsprop", LR: o.LR, Decay: o.Decay, Eps: o.Eps, Step: o.Step, V: o.V}
	}
	return OptimizerState{}
}

func (s OptimizerState) optimizer() (Optimizer, error) {
	switch s.Kind {
	case "adam":
		a := NewAdam(s.LR, s.Beta1, s.Beta2, s.Eps)
		a.Step = s.Step
		if s.M != nil {
			a.M, a.V = s.M, s.V
		}
		return a, nil
	case "rmsprop":
		r := NewRMSProp(s.LR)
		r.Decay, r.Eps, r.Step = s.Decay, s.Eps, s.Step
		if s.V != nil {
			r.V = s.V
		}
		return r, nil
	case "":
		return nil, nil
	}
	return nil, fmt.Errorf("unknown optimiser %q", s.Kind)
}

// Checkpoint captures the trainer's state.
func (t *Trainer) Checkpoint(elapsed time.Duration) *Checkpoint {
	c := &Checkpoint{
		Software: Software, Written: time.Now().UTC(), Config: t.cfg,
		Images: t.Images, Iter: t.Iter, StageIter: t.StageIter, OptStage: t.optStage, Elapsed: elapsed,
		G: tensorsOf(t.G), D: tensorsOf(t.D), EMA: tensorsOf(t.GEMA),
	}
	if t.optG != nil {
		c.OptG, c.OptD = optState(t.optG), optState(t.optD)
	}
	if t.data != nil {
		s := t.data.Summary()
		c.Data = DataRecord{Source: s.Source, Fingerprint: s.Fingerprint, Images: len(s.Used)}
	}
	return c
}

// Resume rebuilds a trainer from a checkpoint, continuing on ds (which should be the data it was
// trained on; see DataMatches).
func Resume(c *Checkpoint, ds *data.Dataset) (*Trainer, error) {
	t, err := New(c.Config, ds)
	if err != nil {
		return nil, err
	}
	if err := loadTensors(t.G, c.G); err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	if err := loadTensors(t.D, c.D); err != nil {
		return nil, fmt.Errorf("critic: %w", err)
	}
	if err := loadTensors(t.GEMA, c.EMA); err != nil {
		return nil, fmt.Errorf("averaged generator: %w", err)
	}
	t.Images, t.Iter, t.StageIter, t.optStage = c.Images, c.Iter, c.StageIter, c.OptStage
	if t.optG, err = c.OptG.optimizer(); err != nil {
		return nil, err
	}
	if t.optD, err = c.OptD.optimizer(); err != nil {
		return nil, err
	}
	if t.optG == nil || t.optD == nil {
		t.optStage = -1 // saved before the first step: start the stage afresh
	}
	return t, nil
}

// checkpointV2 is the version 2 payload: Checkpoint with raw float arrays.
type checkpointV2 struct {
	Software  string
	Written   time.Time
	Config    Config
	Images    int64
	Iter      int64
	StageIter int64
	OptStage  int
	Elapsed   time.Duration
	G, D, EMA []tensorV2
	OptG      optimizerStateV2
	OptD      optimizerStateV2
	Data      DataRecord
}

type tensorV2 struct {
	Name  string
	Shape []int
	Data  rawFloats
}

type optimizerStateV2 struct {
	Kind                  string
	LR, Beta1, Beta2, Eps float64
	Decay                 float64
	Step                  int64
	M, V                  map[string]rawFloats
}

// rawFloats is gob-encoded as its little-endian IEEE bytes.
type rawFloats []float32

func (f rawFloats) GobEncode() ([]byte, error) {
	b := make([]byte, 4*len(f))
	for i, v := range f {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b, nil
}

func (f *rawFloats) GobDecode(b []byte) error {
	if len(b)%4 != 0 {
		return fmt.Errorf("float array of %d bytes", len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	*f = out
	return nil
}

// toWire and fromWire convert between Checkpoint and its version 2 payload (sharing the arrays).
func toWire(c *Checkpoint) *checkpointV2 {
	ts := func(in []Tensor) []tensorV2 {
		out := make([]tensorV2, len(in))
		for i, t := range in {
			out[i] = tensorV2{Name: t.Name, Shape: t.Shape, Data: t.Data}
		}
		return out
	}
	opt := func(o OptimizerState) optimizerStateV2 {
		w := optimizerStateV2{Kind: o.Kind, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, Decay: o.Decay, Step: o.Step}
		w.M, w.V = convertMap[[]float32, rawFloats](o.M), convertMap[[]float32, rawFloats](o.V)
		return w
	}
	return &checkpointV2{Software: c.Software, Written: c.Written, Config: c.Config, Images: c.Images, Iter: c.Iter,
		StageIter: c.StageIter, OptStage: c.OptStage, Elapsed: c.Elapsed, G: ts(c.G), D: ts(c.D), EMA: ts(c.EMA),
		OptG: opt(c.OptG), OptD: opt(c.OptD), Data: c.Data}
}

func fromWire(w *checkpointV2) Checkpoint {
	ts := func(in []tensorV2) []Tensor {
		if in == nil {
			return nil
		}
		out := make([]Tensor, len(in))
		for i, t := range in {
			out[i] = Tensor{Name: t.Name, Shape: t.Shape, Data: t.Data}
		}
		return out
	}
	opt := func(o optimizerStateV2) OptimizerState {
		s := OptimizerState{Kind: o.Kind, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, Decay: o.Decay, Step: o.Step}
		s.M, s.V = convertMap[rawFloats, []float32](o.M), convertMap[rawFloats, []float32](o.V)
		return s
	}
	return Checkpoint{Software: w.Software, Written: w.Written, Config: w.Config, Images: w.Images, Iter: w.Iter,
		StageIter: w.StageIter, OptStage: w.OptStage, Elapsed: w.Elapsed, G: ts(w.G), D: ts(w.D), EMA: ts(w.EMA),
		OptG: opt(w.OptG), OptD: opt(w.OptD), Data: w.Data}
}

// convertMap re-types the float arrays of an optimiser state map (sharing them).
func convertMap[T, U ~[]float32](m map[string]T) map[string]U {
	if m == nil {
		return nil
	}
	out := make(map[string]U, len(m))
	for k, v := range m {
		out[k] = U(v)
	}
	return out
}
