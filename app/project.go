package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"tessera/gan/train"
)

// ProjectFile is the studio's file in a run directory: what the user keeps with the run.
const ProjectFile = "project.json"

// ModelsDir holds, in a run directory, the model files that exports were made from.
const ModelsDir = "models"

// Favourite is a named point of the latent space.
type Favourite struct {
	Name  string `json:"name"`
	Point Point  `json:"point"`
}

// Project is what the studio keeps with a run: favourite textures and export settings.
type Project struct {
	Favourites []Favourite `json:"favourites"`
}

// LoadProject reads a run's project file (an empty project if there is none).
func LoadProject(runDir string) (Project, error) {
	var p Project
	b, err := os.ReadFile(filepath.Join(runDir, ProjectFile))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, &p); err != nil {
		// keep the damaged file aside, so that saving a new project does not destroy what it
		// still holds
		path := filepath.Join(runDir, ProjectFile)
		kept := path + ".damaged"
		if rerr := os.Rename(path, kept); rerr != nil {
			return Project{}, fmt.Errorf("%s is damaged (%v), and could not be moved aside: %w", path, err, rerr)
		}
		return Project{}, fmt.Errorf("%s is damaged (%v); it was kept as %s and the favourites start afresh", path, err, kept)
	}
	return p, nil
}

// Save writes the project file atomically.
func (p Project) Save(runDir string) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return train.WriteFileAtomic(filepath.Join(runDir, ProjectFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ClearRun removes a run's files from dir, the trainer's and the studio's favourites, so that a
// new run can start there. The model files of exports (ModelsDir) stay: textures exported from
// the old run name them for `export --from`, and their names (images seen, weight hash) do not
// collide with the new run's.
func ClearRun(dir string) error {
	if err := train.ClearRun(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, ProjectFile)); err != nil {
		return fmt.Errorf("clearing the old run: %w", err)
	}
	return nil
}
