package release

import (
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/policy"
)

// Config is how a repository releases: the `release:` section of
// .github/ferry.yml, mapped onto this type by the policy loader. The zero
// value means the defaults (DefaultConfig).
type Config struct {
	// TagPattern names release tags: "{version}" stands for the version,
	// e.g. "v{version}" (the default) or "api-v{version}".
	TagPattern string
	// VersionFiles are files the version is written into: "VERSION",
	// "package.json#version", "Chart.yaml#appVersion",
	// "internal/version/version.go#Version" (see EditVersionFile).
	VersionFiles []string
	// Changelog is the Keep a Changelog file to update ("" for none).
	Changelog string
	// Components split a monorepo; each releases on its own.
	Components []Component
	// Labels maps a pull request label to a section: a key ("feat",
	// "fix", "breaking", …), a known section's title ("Features"), or any
	// other title for a section of its own. Nil means DefaultLabels; an
	// empty map means none.
	Labels map[string]string
	// Types maps a Conventional Commits type to a section the same way,
	// over the defaults (each known type is its own section); a type not
	// known ("wip", "i18n") becomes one.
	Types map[string]string
	// SkipLabels keep a pull request out of the notes (listed as
	// skipped). Nil means "skip-changelog" and "no-changelog".
	SkipLabels []string
	// Noise is bot traffic to leave out, e.g. dependabot[bot]'s chores.
	Noise []Noise
	// NoRelease are the sections whose changes alone make no release.
	// Nil means docs, test, ci, style and chore.
	NoRelease []string
	// BelowOne is how versions below 1.0.0 move.
	BelowOne BelowOne
	// Prerelease is the channel ("rc" gives 1.3.0-rc.1, 1.3.0-rc.2, …);
	// "" releases stable versions.
	Prerelease string
	// InitialVersion is the first release's version ("0.1.0" unless set).
	InitialVersion string
}

// Component is one releasable part of a monorepo.
type Component struct {
	Name         string
	Paths        []policy.Glob // the files it is made of
	TagPattern   string        // e.g. "api-v{version}"
	VersionFiles []string
	Changelog    string
}

// Noise matches entries to leave out: every author of the entry is Author
// (a login or a name, e.g. "dependabot[bot]") and, when Sections is not
// empty, the entry falls in one of them (e.g. "chore", "deps").
type Noise struct {
	Author   string
	Sections []string
}

// BelowOne says how versions below 1.0.0 move.
type BelowOne string

// Rules for versions below 1.0.0.
const (
	// BelowOneShift (the default): a breaking change bumps the minor
	// version and a feature the patch, as semver's "anything may change"
	// initial development is usually run.
	BelowOneShift BelowOne = "shift"
	// BelowOneStandard bumps as from 1.0.0 on: a breaking change makes
	// 1.0.0.
	BelowOneStandard BelowOne = "standard"
)

// DefaultLabels are the labels GitHub creates in every repository, and the
// usual ones for breaking changes and dependencies.
func DefaultLabels() map[string]string {
	return map[string]string{
		"breaking": "breaking", "breaking-change": "breaking", "breaking change": "breaking",
		"enhancement": "feat", "feature": "feat", "bug": "fix", "bugfix": "fix",
		"documentation": "docs", "dependencies": "deps", "performance": "perf", "security": "security",
	}
}

// DefaultConfig is what a repository without a `release:` section gets.
func DefaultConfig() Config {
	return Config{
		TagPattern: "v{version}", Changelog: "CHANGELOG.md", Labels: DefaultLabels(),
		SkipLabels: []string{"skip-changelog", "no-changelog"},
		NoRelease:  []string{"docs", "test", "ci", "style", "chore"},
		BelowOne:   BelowOneShift, InitialVersion: "0.1.0",
	}
}

// withDefaults fills what c leaves unset.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.TagPattern == "" {
		c.TagPattern = d.TagPattern
	}
	if c.Labels == nil {
		c.Labels = d.Labels
	}
	if c.SkipLabels == nil {
		c.SkipLabels = d.SkipLabels
	}
	if c.NoRelease == nil {
		c.NoRelease = d.NoRelease
	}
	if c.BelowOne == "" {
		c.BelowOne = d.BelowOne
	}
	if c.InitialVersion == "" {
		c.InitialVersion = d.InitialVersion
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	c = c.withDefaults()
	if err := checkPattern(c.TagPattern); err != nil {
		return err
	}
	if c.BelowOne != BelowOneShift && c.BelowOne != BelowOneStandard {
		return fmt.Errorf("below_one %q: want %q or %q", c.BelowOne, BelowOneShift, BelowOneStandard)
	}
	if _, err := parseVersion(c.InitialVersion); err != nil {
		return fmt.Errorf("initial version: %w", err)
	}
	if c.Prerelease != "" && !prereleaseRe.MatchString(c.Prerelease) {
		return fmt.Errorf("prerelease channel %q: want letters, digits and hyphens", c.Prerelease)
	}
	seen := map[string]bool{}
	for _, comp := range c.Components {
		if comp.Name == "" || seen[comp.Name] {
			return fmt.Errorf("component %q: names must be present and unique", comp.Name)
		}
		seen[comp.Name] = true
		if len(comp.Paths) == 0 {
			return fmt.Errorf("component %s: no paths", comp.Name)
		}
		if comp.TagPattern != "" {
			if err := checkPattern(comp.TagPattern); err != nil {
				return fmt.Errorf("component %s: %w", comp.Name, err)
			}
		}
	}
	return nil
}

func checkPattern(p string) error {
	if strings.Count(p, "{version}") != 1 {
		return fmt.Errorf("tag pattern %q: must hold {version} once", p)
	}
	return nil
}

// component returns the named component with its globs compiled, and the
// configuration it releases under (its own tag pattern, files and
// changelog over the repository's).
func (c Config) component(name string) (Config, []policy.Glob, error) {
	for _, comp := range c.Components {
		if comp.Name != name {
			continue
		}
		globs := comp.Paths
		c.TagPattern = comp.TagPattern
		if c.TagPattern == "" {
			c.TagPattern = comp.Name + "-v{version}"
		}
		c.VersionFiles, c.Changelog = comp.VersionFiles, comp.Changelog
		return c, globs, nil
	}
	return c, nil, fmt.Errorf("no component %q in the release configuration", name)
}

// ForComponent is the configuration a component releases under: its tag
// pattern (default "NAME-v{version}"), version files and changelog. ""
// is the whole repository.
func (c Config) ForComponent(name string) (Config, error) {
	if name == "" {
		return c.withDefaults(), nil
	}
	cc, _, err := c.withDefaults().component(name)
	return cc, err
}
