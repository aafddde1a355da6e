// Package app is the studio's core, without any GUI code: the training session that runs in a
// background goroutine and publishes snapshots, the latent-space explorer, texture export, and
// the settings and project files the studio keeps. The ui package draws it; cmd/tessera-studio
// wires the two to a window.
package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"tessera/gan/model"
	"tessera/gan/train"
)

// Settings are the studio's persistent settings (in the user's config directory).
type Settings struct {
	DataDir      string  `json:"data_dir"` // "" or train.BuiltinSource: the built-in set
	RunsDir      string  `json:"runs_dir"` // where new runs are created
	LastRun      string  `json:"last_run"` // reopened at start
	MaxRes       int     `json:"max_res"`
	KimgPerStage float64 `json:"kimg_per_stage"`
	Batch        int     `json:"batch"`
	Loss         string  `json:"loss"`
	Mode         string  `json:"mode"`
	Seed         uint64  `json:"seed"`
	Scale        int     `json:"scale"`  // crop side in photo pixels
	Rotate       bool    `json:"rotate"` // allow 90-degree rotations
	WindowW      int     `json:"window_w"`
	WindowH      int     `json:"window_h"`
	ExportSize   int     `json:"export_size"`
	ExportDir    string  `json:"export_dir"`
}

// DefaultSettings returns the settings of a first start.
func DefaultSettings() Settings {
	d := train.DefaultConfig()
	home, _ := os.UserHomeDir()
	return Settings{
		DataDir: train.BuiltinSource, RunsDir: filepath.Join(home, "Tessera", "runs"),
		MaxRes: d.Model.MaxRes, KimgPerStage: float64(d.Schedule.Stabilize) / 1000, Batch: d.Batch,
		Loss: string(d.Loss), Mode: string(d.Mode), Seed: d.Seed, Scale: d.Crop.Source,
		WindowW: 1280, WindowH: 800, ExportSize: 512, ExportDir: filepath.Join(home, "Tessera", "exports"),
	}
}

// TrainConfig turns the settings into a training configuration.
func (s Settings) TrainConfig() (train.Config, error) {
	cfg := train.DefaultConfig().WithLoss(train.Loss(s.Loss))
	cfg.Mode = train.Mode(s.Mode)
	cfg.Model.MaxRes, cfg.Batch, cfg.Seed = s.MaxRes, s.Batch, s.Seed
	if cfg.Model.Channels[s.MaxRes] == 0 {
		cfg.Model.Channels = model.DefaultChannels()
	}
	k := int64(s.KimgPerStage * 1000)
	final := cfg.Schedule.Final * k / max(1, cfg.Schedule.Stabilize) // the default proportion
	cfg.Schedule = train.Schedule{Stabilize: k, Fade: k, Final: final, Scale: cfg.Schedule.Scale}
	cfg.EMABeta = train.EMABeta(train.DefaultEMAHalfLife, cfg.Batch)
	cfg.Crop.Source, cfg.Crop.Rotate90 = s.Scale, s.Rotate
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// ConfigDir returns the directory of the studio's settings.
func ConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "tessera"), nil
}

const settingsFile = "settings.json"

// LoadSettings reads the settings from dir; a missing file gives the defaults. A damaged file
// gives the defaults and an error saying so (the caller shows it and carries on).
func LoadSettings(dir string) (Settings, error) {
	s := DefaultSettings()
	b, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return DefaultSettings(), fmt.Errorf("settings %s are damaged (%v); using the defaults", filepath.Join(dir, settingsFile), err)
	}
	return s, nil
}

// Save writes the settings atomically.
func (s Settings) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return train.WriteFileAtomic(filepath.Join(dir, settingsFile), func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}
