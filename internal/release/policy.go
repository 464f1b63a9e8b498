package release

import "github.com/ferry-ci/ferry/internal/policy"

// FromPolicy is the release configuration a repository's policy gives.
func FromPolicy(p policy.Release) Config {
	c := DefaultConfig()
	c.Prerelease = p.Prerelease
	if p.MajorBefore1 {
		c.BelowOne = BelowOneStandard
	}
	if p.Labels != nil {
		c.Labels = p.Labels
	}
	c.Types = p.Types
	for _, a := range p.IgnoreAuthors {
		c.Noise = append(c.Noise, Noise{Author: a})
	}
	for _, comp := range p.Components {
		if comp.Name == "" { // the whole repository
			c.TagPattern, c.VersionFiles, c.Changelog = comp.TagPattern, comp.VersionFiles, comp.Changelog
			continue
		}
		c.Components = append(c.Components, Component{Name: comp.Name, Paths: comp.Paths, TagPattern: comp.TagPattern,
			VersionFiles: comp.VersionFiles, Changelog: comp.Changelog})
	}
	return c
}
