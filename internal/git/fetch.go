package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-billy/v5/osfs"
	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// FetchOptions say where a change lives and how to authenticate.
type FetchOptions struct {
	URL      string // https://github.com/OWNER/REPO.git
	Username string // x-access-token for an installation token
	Password string
	// RefSpecs to fetch, e.g. +refs/pull/7/merge:refs/ferry/merge.
	RefSpecs []string
	// Depth above 0 fetches that many commits of each ref: a shallow fetch.
	Depth int
	// MaxBytes above 0 stops a fetch whose pack is larger (ErrTooLarge).
	MaxBytes int64
}

// ErrTooLarge is a fetch stopped at its MaxBytes.
var ErrTooLarge = errors.New("the fetch is larger than allowed")

// Memory a repository opened here may hold: go-git's default object cache
// is 96 MiB per repository; objects are read once here, so a small one
// does. Blobs above largeObject are streamed from the pack, never cached.
const (
	objectCacheBytes = 8 * cache.MiByte
	largeObject      = 1 << 20
)

// Fetch brings refs into a bare repository at dir (created on first use,
// kept as a cache: what is already there is not fetched again) and opens
// it. Close the repository when done.
func Fetch(ctx context.Context, dir string, o FetchOptions) (*Repo, error) {
	g, err := openBare(dir)
	if err != nil {
		return nil, err
	}
	if err := g.fetch(ctx, o); err != nil {
		g.Close()
		return nil, err
	}
	return g, nil
}

func openBare(dir string) (*Repo, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("git cache: %w", err)
	}
	st := filesystem.NewStorageWithOptions(osfs.New(dir), cache.NewObjectLRU(objectCacheBytes),
		filesystem.Options{MaxOpenDescriptors: 16, LargeObjectThreshold: largeObject})
	r, err := gogit.Open(st, nil)
	if errors.Is(err, gogit.ErrRepositoryNotExists) {
		r, err = gogit.Init(st, nil)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("git cache at %s: %w", dir, err)
	}
	return &Repo{r: r, st: st}, nil
}

func (g *Repo) fetch(ctx context.Context, o FetchOptions) error {
	specs := make([]config.RefSpec, len(o.RefSpecs))
	for i, s := range o.RefSpecs {
		specs[i] = config.RefSpec(s)
		if err := specs[i].Validate(); err != nil {
			return fmt.Errorf("refspec %q: %w", s, err)
		}
	}
	opts := &gogit.FetchOptions{RefSpecs: specs, Tags: gogit.NoTags, Force: true, Depth: o.Depth}
	if o.Password != "" {
		opts.Auth = &http.BasicAuth{Username: o.Username, Password: o.Password}
	}
	var s storage.Storer = g.r.Storer
	if pw, ok := s.(storer.PackfileWriter); ok && o.MaxBytes > 0 {
		s = cappedStorer{Storer: s, pw: pw, max: o.MaxBytes}
	}
	// An unsaved remote: the URL and the token are passed on every fetch,
	// never written to the cache's config.
	remote := gogit.NewRemote(s, &config.RemoteConfig{Name: "origin", URLs: []string{o.URL}})
	if err := remote.FetchContext(ctx, opts); err != nil && !errors.Is(err, gogit.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s: %w", o.URL, err)
	}
	return nil
}

// cappedStorer stops a fetch once its pack passes max bytes. (The pack
// is what crosses the network and lands on disk; go-git writes it as it
// arrives.)
type cappedStorer struct {
	storage.Storer
	pw  storer.PackfileWriter
	max int64
}

func (s cappedStorer) PackfileWriter() (io.WriteCloser, error) {
	w, err := s.pw.PackfileWriter()
	if err != nil {
		return nil, err
	}
	return &cappedWriter{WriteCloser: w, max: s.max}, nil
}

type cappedWriter struct {
	io.WriteCloser
	max, n int64
}

func (w *cappedWriter) Write(p []byte) (int, error) {
	if w.n+int64(len(p)) > w.max {
		return 0, fmt.Errorf("%w: pack over %d bytes", ErrTooLarge, w.max)
	}
	w.n += int64(len(p))
	return w.WriteCloser.Write(p)
}
