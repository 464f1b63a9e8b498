package main

import (
	"encoding/json"
	"fmt"

	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/render"
)

// ChangelogCmd prints the next release's notes and version for a local
// clone: what ferry's release pull request would say.
type ChangelogCmd struct {
	Repo       string `name:"repo" default:"." help:"The git repository."`
	From       string `name:"from" help:"The previous release (default: the newest tag matching --tag-pattern reachable from --to)."`
	To         string `name:"to" default:"HEAD" help:"The release's last commit."`
	TagPattern string `name:"tag-pattern" env:"FERRY_TAG_PATTERN" help:"How release tags are named; {version} stands for the version (default: the policy's release.tag_pattern at --to, else v{version})."`
	Prerelease string `name:"prerelease" env:"FERRY_PRERELEASE" help:"A pre-release channel, e.g. rc: the next version is -rc.N of the target."`
	Format     string `name:"format" default:"markdown" enum:"markdown,json" help:"markdown (the release notes) or json."`
}

// Run implements the command.
func (c *ChangelogCmd) Run(e *env) error {
	if err := (release.Config{TagPattern: c.TagPattern}).Validate(); err != nil {
		return settingError("tag-pattern", "FERRY_TAG_PATTERN", "%v", err)
	}
	if err := (release.Config{Prerelease: c.Prerelease}).Validate(); err != nil {
		return settingError("prerelease", "FERRY_PRERELEASE", "%v", err)
	}
	repo, err := git.OpenHistory(c.Repo)
	if err != nil {
		return usageError{err.Error()}
	}
	defer repo.Close()
	cfg, err := c.config(repo)
	if err != nil {
		return err
	}
	for flag, rev := range map[string]string{"--to": c.To, "--from": c.From} {
		if _, err := repo.Resolve(rev); rev != "" && err != nil {
			return usageError{flag + ": " + err.Error()}
		}
	}
	in, err := repo.ReleaseInput(e.ctx, c.From, c.To, cfg)
	if err != nil {
		return usageError{err.Error()}
	}
	notes, err := release.Build(in)
	if err != nil {
		return err
	}
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(notes)
	}
	rd, err := render.New()
	if err != nil {
		return err
	}
	out, err := rd.ReleaseNotes(render.NewReleaseView(notes))
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(e.stdout, out)
	return err
}

// config is the release configuration: the policy's release section at
// --to (the same that ferry's release pull request follows), with the
// flags over it.
func (c *ChangelogCmd) config(repo *git.Repo) (release.Config, error) {
	cfg := release.DefaultConfig()
	if head, err := repo.Resolve(c.To); err == nil {
		data, err := repo.FileAt(head, policy.Path)
		if err != nil {
			return cfg, err
		}
		switch pol := policy.Load(data, data != nil, c.To, policy.Options{}); pol.State {
		case policy.Invalid:
			return cfg, usageError{policy.Path + " at " + c.To + " is not valid: " + pol.Problems[0].String()}
		case policy.Valid:
			cfg = release.FromPolicy(pol.Policy.Release)
		case policy.Absent:
		}
	}
	if c.TagPattern != "" {
		cfg.TagPattern = c.TagPattern
	}
	if c.Prerelease != "" {
		cfg.Prerelease = c.Prerelease
	}
	return cfg, nil
}
