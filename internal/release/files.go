package release

import (
	"fmt"
	"slices"
	"time"
)

// Files are the paths a release of component ("" the whole repository)
// writes, each once: its version files' and its changelog.
func Files(c Config, component string) ([]string, error) {
	cc, err := c.ForComponent(component)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, spec := range cc.VersionFiles {
		f, err := ParseVersionFile(spec)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, f.Path) {
			out = append(out, f.Path)
		}
	}
	if cc.Changelog != "" {
		out = append(out, cc.Changelog)
	}
	return out, nil
}

// Edit is a release to write into the repository's files.
type Edit struct {
	Notes  Notes
	Config Config
	// Current holds the files Files names: path → content; a file that
	// does not exist is absent (a changelog is then made; a version file
	// must exist).
	Current map[string][]byte
	// Changelog is the changelog section's body (render's
	// ReleaseChangelog); Date the release day; RepoURL
	// ("https://github.com/OWNER/REPO") links versions to the compare view.
	Changelog string
	Date      time.Time
	RepoURL   string
}

// EditFiles returns the new content of each file the release changes:
// the version written into every version file (several fields of one
// file are applied in turn) and the new section in the changelog.
// Nothing to release (no version): nothing changes.
func EditFiles(e Edit) (map[string][]byte, error) {
	out := map[string][]byte{}
	if e.Notes.Version == "" {
		return out, nil
	}
	cc, err := e.Config.ForComponent(e.Notes.Component)
	if err != nil {
		return nil, err
	}
	read := func(path string) ([]byte, bool) {
		if b, ok := out[path]; ok {
			return b, true
		}
		b, ok := e.Current[path]
		return b, ok
	}
	for _, spec := range cc.VersionFiles {
		f, err := ParseVersionFile(spec)
		if err != nil {
			return nil, err
		}
		old, ok := read(f.Path)
		if !ok {
			return nil, fmt.Errorf("version file %s: not in the repository", f.Path)
		}
		if out[f.Path], err = EditVersionFile(spec, old, e.Notes.Version); err != nil {
			return nil, err
		}
	}
	if cc.Changelog != "" {
		old, _ := read(cc.Changelog)
		b, changed, err := InsertChangelog(old, ChangelogRelease{Version: e.Notes.Version, Date: e.Date, Body: e.Changelog,
			Tag: e.Notes.Tag, PreviousTag: e.Notes.Previous, RepoURL: e.RepoURL})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cc.Changelog, err)
		}
		if changed {
			out[cc.Changelog] = b
		}
	}
	for path, b := range out { // a file written back as it was is no change
		if old, ok := e.Current[path]; ok && string(old) == string(b) {
			delete(out, path)
		}
	}
	return out, nil
}
