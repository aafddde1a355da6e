package ui

import (
	"image"
	"reflect"
	"testing"

	"tessera/app"
)

func TestCreditLines(t *testing.T) {
	tests := []struct {
		name, md string
		want     []string
	}{
		{"table", "# Set: stone\n\n| file | size | license |\n|---|:--:|---|\n| a.jpg | 1x1 | CC BY |\n\nText `here`.\n",
			[]string{"Set: stone", "a.jpg: 1x1, CC BY", "Text here."}},
		{"no table", "Just text.", []string{"Just text."}},
		{"empty", "\n\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := creditLines(tc.md); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("creditLines(%q) = %q, want %q", tc.md, got, tc.want)
			}
		})
	}
}

func TestAddAnchorFillsAFirst(t *testing.T) {
	tests := []struct {
		name     string
		slots    []string // the radio's value before each pick
		wantA    int
		wantB    int
		wantSlot string
	}{
		{"first pick is A", []string{"A"}, 0, -1, "B"},
		{"B chosen before any A still gives A", []string{"B"}, 0, -1, "B"},
		{"then B", []string{"A", "B"}, 0, 1, "B"},
		{"A replaced", []string{"A", "B", "A"}, 2, 1, "A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &explorePane{thumbs: map[string]image.Image{}, a: -1, b: -1}
			for i, s := range tc.slots {
				p.slot.Value = s
				p.addAnchor(app.Point{Seed: uint64(i + 1)}, nil)
			}
			if p.a != tc.wantA || p.b != tc.wantB || p.slot.Value != tc.wantSlot {
				t.Errorf("a=%d b=%d slot=%q, want a=%d b=%d slot=%q", p.a, p.b, p.slot.Value, tc.wantA, tc.wantB, tc.wantSlot)
			}
		})
	}
}
