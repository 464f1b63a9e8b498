package git

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/release"
)

// ReleaseInput reads what the next release of cfg covers: the commits from
// the previous release (from, or by default the newest tag matching the
// tag pattern reachable from to — a stable one unless a pre-release channel
// is set) to to, the previous tag, and who contributed before. No tag: the
// first release, from the first commit. The same for `ferry changelog` on
// a clone and for the release agent on its cache.
func (g *Repo) ReleaseInput(ctx context.Context, from, to string, cfg release.Config) (release.Input, error) {
	head, err := g.Resolve(to)
	if err != nil {
		return release.Input{}, fmt.Errorf("release head: %w", err)
	}
	start := head
	if from != "" {
		if start, err = g.Resolve(from); err != nil {
			return release.Input{}, fmt.Errorf("release start: %w", err)
		}
	}
	base, previous, err := g.previousRelease(ctx, start, from != "", cfg)
	if err != nil {
		return release.Input{}, err
	}
	r, err := g.ReleaseRange(ctx, base, head)
	if err != nil {
		return release.Input{}, err
	}
	in := release.Input{Commits: r.Commits, Previous: previous, Config: cfg}
	if base != nil {
		in.PreviousContributors = r.Earlier
	}
	return in, nil
}

// previousRelease is where a release starts, and the tag its version
// follows: start itself when explicit (and the release tag on or before
// it), else the newest release tag reachable from start.
func (g *Repo) previousRelease(ctx context.Context, start *object.Commit, explicit bool, cfg release.Config) (*object.Commit, string, error) {
	pattern := cfg.TagPattern
	if pattern == "" {
		pattern = release.DefaultConfig().TagPattern
	}
	tags, err := g.NearestTags(ctx, start, func(name string) bool {
		v, ok := release.ParseTag(pattern, name)
		return ok && (cfg.Prerelease != "" || !release.IsPrerelease(v))
	})
	if err != nil {
		return nil, "", err
	}
	var newest *Tag
	for i, t := range tags { // several tags on one commit: the highest version
		v, _ := release.ParseTag(pattern, t.Name)
		if newest == nil {
			newest = &tags[i]
			continue
		}
		if have, _ := release.ParseTag(pattern, newest.Name); release.CompareVersions(v, have) > 0 {
			newest = &tags[i]
		}
	}
	switch {
	case explicit && newest == nil:
		return start, "", nil
	case explicit:
		return start, newest.Name, nil
	case newest == nil:
		return nil, "", nil
	}
	base, err := g.Resolve(newest.SHA)
	if err != nil {
		return nil, "", err
	}
	return base, newest.Name, nil
}
