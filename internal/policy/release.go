package policy

import (
	"fmt"
	"path"
	"strings"
)

// Release is how ferry keeps a repository's release pull request: off
// until the policy turns it on (`/ferry changelog` works regardless).
type Release struct {
	Enabled bool
	// Components are released apart; a repository without any is one
	// component of every path.
	Components []ReleaseComponent
	// Types and Labels map a Conventional Commits type, or a pull request's
	// label, to the title of its section (over ferry's defaults).
	Types, Labels map[string]string
	// MajorBefore1: a breaking change bumps the major version even below
	// 1.0.0 (otherwise it bumps the minor, and a feature the patch).
	MajorBefore1 bool
	// Prerelease names a channel ("rc"): versions become -rc.N of the next
	// version until the channel is removed.
	Prerelease string
	// IgnoreAuthors' commits are listed as skipped (bot noise).
	IgnoreAuthors []string
}

// ReleaseComponent is a part of a repository with versions of its own.
type ReleaseComponent struct {
	Name         string // "" for the whole repository
	Paths        []Glob // the files it is made of
	TagPattern   string // "v{version}"
	VersionFiles []string
	Changelog    string // "CHANGELOG.md"
}

// Branch is the component's release branch, ferry's own.
func (c ReleaseComponent) Branch() string {
	if c.Name == "" {
		return "ferry/release"
	}
	return "ferry/release/" + c.Name
}

type rawRelease struct {
	Enabled      bool     `json:"enabled"`
	TagPattern   string   `json:"tag_pattern"`
	VersionFiles []string `json:"version_files"`
	Changelog    string   `json:"changelog"`
	Components   []struct {
		Name         string   `json:"name"`
		Paths        []string `json:"paths"`
		TagPattern   string   `json:"tag_pattern"`
		VersionFiles []string `json:"version_files"`
		Changelog    string   `json:"changelog"`
	} `json:"components"`
	Sections *struct {
		Types  map[string]string `json:"types"`
		Labels map[string]string `json:"labels"`
	} `json:"sections"`
	MajorBefore1  bool     `json:"major_before_1"`
	Prerelease    string   `json:"prerelease"`
	IgnoreAuthors []string `json:"ignore_authors"`
}

// release builds the release section with its defaults.
func release(r *rawRelease) (Release, []Problem) {
	if r == nil {
		return Release{Components: []ReleaseComponent{defaultComponent("", "", nil, "")}}, nil
	}
	out := Release{Enabled: r.Enabled, MajorBefore1: r.MajorBefore1, Prerelease: r.Prerelease, IgnoreAuthors: r.IgnoreAuthors}
	if s := r.Sections; s != nil {
		out.Types, out.Labels = s.Types, s.Labels
	}
	var probs []Problem
	if len(r.Components) == 0 {
		out.Components = []ReleaseComponent{defaultComponent("", r.TagPattern, r.VersionFiles, r.Changelog)}
	}
	seen := map[string]bool{}
	for i, c := range r.Components {
		comp := defaultComponent(c.Name, c.TagPattern, c.VersionFiles, c.Changelog)
		comp.Paths = nil
		for _, p := range c.Paths {
			comp.Paths = append(comp.Paths, NewGlob(p))
		}
		if c.Changelog == "" && c.Name != "" {
			comp.Changelog = componentChangelog(c.Name, c.Paths)
		}
		if seen[c.Name] {
			probs = append(probs, Problem{Pointer: fmt.Sprintf("/release/components/%d/name", i), Message: "component " + c.Name + " is named twice"})
		}
		seen[c.Name] = true
		out.Components = append(out.Components, comp)
	}
	return out, probs
}

func defaultComponent(name, tag string, files []string, changelog string) ReleaseComponent {
	c := ReleaseComponent{Name: name, Paths: []Glob{NewGlob("**")}, TagPattern: tag, VersionFiles: files, Changelog: changelog}
	if c.TagPattern == "" {
		c.TagPattern = "v{version}"
		if name != "" {
			c.TagPattern = name + "-v{version}"
		}
	}
	if c.Changelog == "" {
		c.Changelog = "CHANGELOG.md"
	}
	return c
}

// componentChangelog is where a named component keeps its changelog by
// default: in the directory its first path names ("services/api/**" →
// services/api/CHANGELOG.md), else CHANGELOG-NAME.md at the top — never
// the repository's own, which two components would both write.
func componentChangelog(name string, paths []string) string {
	if len(paths) > 0 {
		p := paths[0]
		if i := strings.IndexAny(p, "*?[{"); i >= 0 {
			p = p[:i]
		}
		if dir := path.Dir(p + "x"); dir != "." && dir != "/" && !strings.HasPrefix(dir, "..") {
			return strings.TrimPrefix(dir, "/") + "/CHANGELOG.md"
		}
	}
	return "CHANGELOG-" + name + ".md"
}
