package release

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/release -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

const body = "### Features\n\n- **api:** add passkeys (#101) — Ann Lee\n\n### Bug fixes\n\n- handle an empty cart (#102) — Bob\n"

var day = time.Date(2026, 11, 24, 23, 30, 0, 0, time.FixedZone("", -5*3600)) // 2026-11-25 in UTC

func TestInsertChangelog(t *testing.T) {
	tests := []struct {
		name, in string // in: a testdata file, or "" for none
		r        ChangelogRelease
	}{
		{"keepachangelog", "keepachangelog.md", ChangelogRelease{Version: "1.3.0", Date: day, Body: body, Tag: "v1.3.0",
			PreviousTag: "v1.2.0", RepoURL: "https://github.com/acme/shop"}},
		{"conventional-changelog", "conventional-changelog.md", ChangelogRelease{Version: "1.3.0", Date: day, Body: body}},
		{"new", "", ChangelogRelease{Version: "0.1.0", Date: day, Body: body, Tag: "v0.1.0", RepoURL: "https://github.com/acme/shop/"}},
		{"nothing-notable", "", ChangelogRelease{Version: "0.1.1", Date: day}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var old []byte
			if tt.in != "" {
				var err error
				if old, err = os.ReadFile(filepath.Join("testdata", "changelog", tt.in)); err != nil {
					t.Fatal(err)
				}
			}
			got, changed, err := InsertChangelog(old, tt.r)
			if err != nil || !changed {
				t.Fatalf("changed %v, %v", changed, err)
			}
			golden(t, filepath.Join("testdata", "changelog", tt.name+".want.md"), got)
			again, changed, err := InsertChangelog(got, tt.r)
			if err != nil || changed || string(again) != string(got) {
				t.Errorf("inserting %s twice changed the file (%v)", tt.r.Version, err)
			}
		})
	}
}

func TestInsertChangelogEdges(t *testing.T) {
	crlf := "# Changelog\r\n\r\n## 1.2.0\r\n\r\n- x\r\n"
	got, _, err := InsertChangelog([]byte(crlf), ChangelogRelease{Version: "1.3.0", Date: day, Body: "- y\n"})
	want := "# Changelog\r\n\r\n## [1.3.0] - 2026-11-25\r\n\r\n- y\r\n\r\n## 1.2.0\r\n\r\n- x\r\n"
	if err != nil || string(got) != want {
		t.Errorf("CRLF: %q, %v; want %q", got, err, want)
	}
	for _, has := range []string{"## v1.3.0 (2026-11-01)\n", "# [1.3.0](https://x/compare/a...b) (2026-11-01)\n", "## [1.3.0] - 2026-11-01\n"} {
		in := "# Changelog\n\n" + has + "\n- y\n"
		got, changed, err := InsertChangelog([]byte(in), ChangelogRelease{Version: "1.3.0", Date: day, Body: body})
		if err != nil || changed || string(got) != in {
			t.Errorf("%q: changed %v, %v", has, changed, err)
		}
	}
	if _, _, err := InsertChangelog(nil, ChangelogRelease{Version: "v1"}); err == nil || !strings.Contains(err.Error(), "v1") {
		t.Errorf("bad version: %v", err)
	}
}
