package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/policy"
)

// TestEditVersionFiles: on real shapes of each kind of file, exactly the
// value's bytes change — comments, order, spacing, quoting and the "v"
// survive.
func TestEditVersionFiles(t *testing.T) {
	tests := []struct {
		spec, file string
		old, new   string // the bytes that change
	}{
		{"VERSION", "VERSION", "1.2.3\n", "1.3.0\n"},
		{"package.json#version", "package.json", `"version": "1.2.3"`, `"version": "1.3.0"`},
		{"web/package.json#volta.version", "package.json", `"version": "not this one"`, `"version": "1.3.0"`},
		{"deploy/chart/Chart.yaml#version", "Chart.yaml", "version: 0.1.0\n", "version: 1.3.0\n"},
		{"deploy/chart/Chart.yaml#appVersion", "Chart.yaml", `appVersion: "1.16.0"  # keep quoted`, `appVersion: "1.3.0"  # keep quoted`},
		{"internal/version/version.go", "version.go", `Version = "v1.2.3"`, `Version = "v1.3.0"`},
		{"internal/version/version.go#Commit", "version.go", `Commit = "unknown"`, `Commit = "1.3.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			old, err := os.ReadFile(filepath.Join("testdata", "versionfiles", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(string(old), tt.old) != 1 {
				t.Fatalf("the test's old bytes %q are not once in %s", tt.old, tt.file)
			}
			got, err := EditVersionFile(tt.spec, old, "1.3.0")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(strings.Replace(string(old), tt.old, tt.new, 1), string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			again, err := EditVersionFile(tt.spec, got, "1.3.0")
			if err != nil || string(again) != string(got) {
				t.Errorf("writing the same version again changed the file (%v)", err)
			}
		})
	}
}

func TestEditVersionFileEdges(t *testing.T) {
	tests := []struct {
		name, spec, in, want, err string
	}{
		{"plain keeps v and spacing", "VERSION", "  v0.9.0 \r\n", "  v1.3.0 \r\n", ""},
		{"plain empty", "VERSION", "", "1.3.0\n", ""},
		{"yaml single quotes", "c.yaml#version", "version: '0.1.0' # x\n", "version: '1.3.0' # x\n", ""},
		{"yaml flow mapping", "c.yaml#image.version", "image: {name: api, version: 0.1.0}\n", "image: {name: api, version: 1.3.0}\n", ""},
		{"yaml non-ASCII before the value", "c.yaml#версия", "версия: 0.1.0\n", "версия: 1.3.0\n", ""},
		{"yaml nested", "values.yml#image.tag", "image:\n  # the tag\n  tag: v0.1.0\n", "image:\n  # the tag\n  tag: v1.3.0\n", ""},
		{"yaml block scalar refused", "c.yaml#version", "version: |\n  0.1.0\n", "", "only plain and quoted"},
		{"yaml escapes refused", "c.yaml#version", "version: \"0.1\\x2e0\"\n", "", "not written as it reads"},
		{"yaml missing key", "c.yaml#appVersion", "version: 0.1.0\n", "", "no appVersion"},
		{"yaml not a scalar", "c.yaml#version", "version: [1]\n", "", "not a scalar"},
		{"json minified", "p.json#version", `{"a":{"version":"x"},"version":"1.0.0"}`, `{"a":{"version":"x"},"version":"1.3.0"}`, ""},
		{"json not a string", "p.json#version", `{"version": 1}`, "", "not a string"},
		{"json missing", "p.json#a.version", `{"a": {}}`, "", "no a.version"},
		{"json not an object", "p.json#a.version", `{"a": []}`, "", "a: not an object"},
		{"json duplicate keys disagree", "p.json#version", `{"version": "1.0.0", "version": "2.0.0"}`, "", "reads"},
		{"go backquotes", "v.go", "package v\n\nconst Version = `1.0.0`\n", "package v\n\nconst Version = `1.3.0`\n", ""},
		{"go typed var in a group", "v.go#V", "package v\n\nvar (\n\tA, V string = \"a\", \"1.0.0\"\n)\n", "package v\n\nvar (\n\tA, V string = \"a\", \"1.3.0\"\n)\n", ""},
		{"go not a literal", "v.go", "package v\n\nconst Version = base + \".1\"\n", "", "not a string literal"},
		{"go missing", "v.go", "package v\n", "", "no const or var Version"},
		{"go does not parse", "v.go", "package v\nconst Version = \"1\n", "", "parse Go"},
		{"plain with a field", "VERSION#x", "1.0.0\n", "", "only .json"},
		{"json without a field", "package.json", "{}", "", "name the field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EditVersionFile(tt.spec, []byte(tt.in), "1.3.0")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestEditFiles: a release written into a component's files — two fields
// of one chart, a Go constant, a new changelog — and nothing when there
// is no release or it is already written.
func TestEditFiles(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "versionfiles", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cfg := DefaultConfig()
	cfg.Components = []Component{{Name: "api", Paths: []policy.Glob{policy.NewGlob("services/api/**")}, TagPattern: "api-v{version}",
		Changelog:    "services/api/CHANGELOG.md",
		VersionFiles: []string{"charts/api/Chart.yaml#version", "charts/api/Chart.yaml#appVersion", "services/api/version.go"}}}
	files, err := Files(cfg, "api")
	if diff := cmp.Diff([]string{"charts/api/Chart.yaml", "services/api/version.go", "services/api/CHANGELOG.md"}, files); diff != "" || err != nil {
		t.Fatalf("files (-want +got):\n%s %v", diff, err)
	}
	current := map[string][]byte{"charts/api/Chart.yaml": read("Chart.yaml"), "services/api/version.go": read("version.go")}
	e := Edit{Notes: Notes{Component: "api", Version: "1.3.0", Tag: "api-v1.3.0", Previous: "api-v1.2.3"}, Config: cfg, Current: current,
		Changelog: "### Bug fixes\n\n- x (#1)\n", Date: day}
	got, err := EditFiles(e)
	if err != nil {
		t.Fatal(err)
	}
	chart := string(got["charts/api/Chart.yaml"])
	if !strings.Contains(chart, "\nversion: 1.3.0\n") || !strings.Contains(chart, `appVersion: "1.3.0"  # keep quoted`) ||
		!strings.Contains(string(got["services/api/version.go"]), `Version = "v1.3.0"`) ||
		!strings.HasPrefix(string(got["services/api/CHANGELOG.md"]), "# Changelog\n") || len(got) != 3 {
		t.Errorf("edits: %v", keys(got))
	}
	for path, b := range got {
		current[path] = b
	}
	if again, err := EditFiles(e); err != nil || len(again) != 0 {
		t.Errorf("the same release again: %v, %v", keys(again), err)
	}
	e.Notes.Version = ""
	if none, err := EditFiles(e); err != nil || len(none) != 0 {
		t.Errorf("no release: %v, %v", keys(none), err)
	}
	e.Notes.Version, e.Current = "1.3.0", map[string][]byte{}
	if _, err := EditFiles(e); err == nil || !strings.Contains(err.Error(), "Chart.yaml: not in the repository") {
		t.Errorf("missing version file: %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
