package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProjectRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	if p, err := LoadProject(dir); err != nil || len(p.Favourites) != 0 {
		t.Fatalf("no project file: %+v, %v", p, err)
	}
	want := Project{Favourites: []Favourite{{Name: "moss", Point: Point{Style: []float32{1, 2}, NoiseA: 3, NoiseB: 3, Seed: 3}}}}
	if err := want.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := LoadProject(dir)
	if err != nil || len(got.Favourites) != 1 || got.Favourites[0].Name != "moss" || !equal(got.Favourites[0].Point.Style, want.Favourites[0].Point.Style) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}

	// a damaged file is reported and kept aside; saving afresh does not destroy it
	path := filepath.Join(dir, ProjectFile)
	damaged := []byte(`{"favourites": [{"name": "mo`)
	if err := os.WriteFile(path, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProject(dir); err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), ".damaged") {
		t.Fatalf("damaged project: %v", err)
	}
	if err := (Project{}).Save(dir); err != nil {
		t.Fatal(err)
	}
	if kept, err := os.ReadFile(path + ".damaged"); err != nil || string(kept) != string(damaged) {
		t.Fatalf("the damaged file was not kept: %q, %v", kept, err)
	}
}

// TestClearRunKeepsModelFiles: starting a new run over an old one removes the trainer's files and
// the favourites, but not the model files that exported textures point to.
func TestClearRunKeepsModelFiles(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, ModelsDir, "ema-000001000-0123456789abcdef.tsr")
	files := []string{filepath.Join(dir, "checkpoint.tsr"), filepath.Join(dir, "metrics.jsonl"), filepath.Join(dir, ProjectFile), model}
	if err := os.MkdirAll(filepath.Dir(model), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := ClearRun(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		_, err := os.Stat(f)
		if keep := f == model; keep != (err == nil) {
			t.Errorf("%s: exists %t, want %t", filepath.Base(f), err == nil, keep)
		}
	}
}
