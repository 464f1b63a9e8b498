package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport/http"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/keylock"
)

// FetchOptions say where a change lives and how to authenticate.
type FetchOptions struct {
	URL      string // https://github.com/OWNER/REPO.git
	Username string // x-access-token for an installation token
	Password string
	// RefSpecs to fetch, e.g. +refs/pull/7/head:refs/ferry/pr/7.
	RefSpecs []string
}

// Fetch brings refs into a bare repository at dir (created on first use and
// kept as a cache: later fetches move only what is new) and opens it.
func Fetch(ctx context.Context, dir string, o FetchOptions) (*Repo, error) {
	r, err := gogit.PlainOpen(dir)
	if errors.Is(err, gogit.ErrRepositoryNotExists) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("git cache: %w", err)
		}
		r, err = gogit.PlainInit(dir, true)
	}
	if err != nil {
		return nil, fmt.Errorf("git cache at %s: %w", dir, err)
	}
	specs := make([]config.RefSpec, len(o.RefSpecs))
	for i, s := range o.RefSpecs {
		specs[i] = config.RefSpec(s)
		if err := specs[i].Validate(); err != nil {
			return nil, fmt.Errorf("refspec %q: %w", s, err)
		}
	}
	opts := &gogit.FetchOptions{RefSpecs: specs, Tags: gogit.NoTags, Force: true}
	if o.Password != "" {
		opts.Auth = &http.BasicAuth{Username: o.Username, Password: o.Password}
	}
	// An unsaved remote: the URL and the token are passed on every fetch,
	// never written to the cache's config.
	remote := gogit.NewRemote(r.Storer, &config.RemoteConfig{Name: "origin", URLs: []string{o.URL}})
	if err := remote.FetchContext(ctx, opts); err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return nil, fmt.Errorf("fetch %s: %w", o.URL, err)
	}
	return &Repo{r: r}, nil
}

// ChangeBetween is Change for two SHAs, compared from their merge base as
// GitHub compares a pull request.
func (g *Repo) ChangeBetween(baseSHA, headSHA string) (change.Change, error) {
	base, err := g.Resolve(baseSHA)
	if err != nil {
		return change.Change{}, err
	}
	head, err := g.Resolve(headSHA)
	if err != nil {
		return change.Change{}, err
	}
	if mb, err := head.MergeBase(base); err == nil && len(mb) > 0 {
		base = mb[0]
	}
	return g.Change(base, head)
}

// Cache keeps one bare repository per key (a repository id) under Dir and
// reads changes from it, one fetch at a time per repository.
type Cache struct {
	Dir   string
	locks keylock.Set
}

// Change fetches o's refs into the repository kept under key and returns
// what head changes since its merge base with base.
func (c *Cache) Change(ctx context.Context, key string, o FetchOptions, baseSHA, headSHA string) (change.Change, error) {
	defer c.locks.Lock(key)()
	r, err := Fetch(ctx, filepath.Join(c.Dir, key), o)
	if err != nil {
		return change.Change{}, err
	}
	return r.ChangeBetween(baseSHA, headSHA)
}
