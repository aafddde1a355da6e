package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"tessera/gan/ops"
)

// TestBenchJSON runs a tiny bench with each convolution engine and checks the JSON summary on
// its last line.
func TestBenchJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training iterations")
	}
	for _, engine := range []string{"onednn", "im2col"} {
		var out, errb bytes.Buffer
		code := run([]string{"bench", "--res", "8", "--batch", "8", "--iters", "2", "--channels", "4:16,8:8", "--conv", engine, "--json"}, &out, &errb)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", engine, code, errb.String())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var r struct {
			Res        int            `json:"res"`
			Batch      int            `json:"batch"`
			Channels   map[string]int `json:"channels"`
			ImagesPerS float64        `json:"images_per_s"`
			MsPerIter  float64        `json:"ms_per_iter"`
			GFLOPPerS  float64        `json:"gflop_per_s"`
			PeakRSSMB  float64        `json:"peak_rss_mb"`
			ConvEngine string         `json:"conv_engine"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
			t.Fatalf("%s: last line %q: %v", engine, lines[len(lines)-1], err)
		}
		if r.Res != 8 || r.Batch != 8 || r.Channels["4"] != 16 || r.Channels["8"] != 8 || r.ConvEngine != engine {
			t.Errorf("%s: summary %+v does not describe the run", engine, r)
		}
		if !(r.ImagesPerS > 0 && r.MsPerIter > 0 && r.GFLOPPerS > 0 && r.PeakRSSMB > 0) {
			t.Errorf("%s: summary %+v has a non-positive measurement", engine, r)
		}
	}
	if e := ops.ConvEngine(); e != "onednn" {
		t.Errorf("after bench --conv im2col the engine is %q: bench must restore it", e)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"bench", "--conv", "cuda"}, &out, &errb); code != 2 {
		t.Errorf("bench --conv cuda: exit %d, want 2 (bad usage): %s", code, errb.String())
	}
}
