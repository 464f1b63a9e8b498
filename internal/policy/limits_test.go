package policy

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/manifest"
)

func TestLimits(t *testing.T) {
	tests := []struct {
		name, file string
		want       Limits
	}{
		{"absent: the defaults", "version: 1\n", DefaultLimits()},
		{"lowered", "limits: {max_files: 5000, max_patch_bytes: 1048576}\n",
			Limits{MaxFiles: 5000, MaxFileBytes: 1 << 20, MaxPatchBytes: 1 << 20}},
		{"at the ceiling", "limits: {max_files: 20000, max_file_bytes: 1048576, max_patch_bytes: 33554432}\n", DefaultLimits()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, p.Limits); diff != "" {
				t.Errorf("limits (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLimitsCannotBeRaised: a policy asking for more than the ceiling is
// invalid, pointing at the line, rather than quietly granted.
func TestLimitsCannotBeRaised(t *testing.T) {
	for _, file := range []string{
		"version: 1\nlimits:\n  max_files: 20001\n",
		"version: 1\nlimits:\n  max_file_bytes: 1048577\n",
		"version: 1\nlimits:\n  max_patch_bytes: 33554433\n",
		"version: 1\nlimits:\n  max_files: 0\n",
		"version: 1\nlimits:\n  max_bytes: 5\n",
	} {
		_, err := Parse([]byte(file))
		ie, ok := err.(*InvalidError)
		if !ok || ie.Problems[0].Line != 3 || !strings.Contains(err.Error(), "limits") {
			t.Errorf("%q: %v, want a problem on line 3", file, err)
		}
	}
}

// TestLimitsSchemaAgrees: the schema's maxima are the built-in ceiling,
// and the published example names the defaults.
func TestLimitsSchemaAgrees(t *testing.T) {
	var schema struct {
		Properties struct {
			Limits struct {
				Properties map[string]struct {
					Minimum, Maximum int64
				}
			}
		}
	}
	if err := json.Unmarshal(manifest.PolicySchema, &schema); err != nil {
		t.Fatal(err)
	}
	d := DefaultLimits()
	want := map[string]int64{"max_files": int64(d.MaxFiles), "max_file_bytes": d.MaxFileBytes, "max_patch_bytes": d.MaxPatchBytes}
	got := map[string]int64{}
	for name, p := range schema.Properties.Limits.Properties {
		got[name] = p.Maximum
		if p.Minimum != 1 {
			t.Errorf("%s: minimum %d, want 1", name, p.Minimum)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("schema maxima (-ceiling +schema):\n%s", diff)
	}
	data, err := os.ReadFile("../../manifest/ferry.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(data)
	if err != nil || p.Limits != d {
		t.Errorf("example limits %+v (%v), defaults %+v", p.Limits, err, d)
	}
}

func TestLimitsCapped(t *testing.T) {
	d := DefaultLimits()
	tests := []struct{ in, want Limits }{
		{Limits{}, d},
		{Limits{MaxFiles: 10, MaxFileBytes: 10, MaxPatchBytes: 10}, Limits{MaxFiles: 10, MaxFileBytes: 10, MaxPatchBytes: 10}},
		{Limits{MaxFiles: 1 << 30, MaxFileBytes: 1 << 40, MaxPatchBytes: -1}, d},
	}
	for _, tt := range tests {
		if got := tt.in.Capped(); got != tt.want {
			t.Errorf("%+v.Capped() = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
