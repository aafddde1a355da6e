package ui

import (
	"reflect"
	"testing"
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
