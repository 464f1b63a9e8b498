package git

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Remote is a repository to fetch from, and a token.
type Remote struct{ URL, Username, Password string }

// History fetches a branch's whole history and the repository's tags into
// the repository kept under key (apart from the shallow one pull requests
// are read from: a shallow repository cannot grow a history) and calls
// read with it, one at a time per repository. Later fetches bring only
// what is new.
func (c *Cache) History(ctx context.Context, key string, r Remote, branch string, read func(*Repo) error) error {
	if key == "" || strings.ContainsAny(key, `/\`) || !filepath.IsLocal(key) {
		return fmt.Errorf("git cache key %q: not a plain name", key)
	}
	key += ".history"
	c.enter(key)
	defer c.prune()
	defer c.leave(key)
	defer c.locks.Lock(key)()
	dir := filepath.Join(c.Dir, key)
	g, err := c.fetch(ctx, dir, FetchOptions{URL: r.URL, Username: r.Username, Password: r.Password, MaxBytes: c.maxBytes(),
		RefSpecs: []string{"+refs/heads/" + branch + ":refs/heads/" + branch, "+refs/tags/*:refs/tags/*"}})
	if err != nil {
		return err
	}
	now := c.now()
	os.Chtimes(dir, now, now) // the last use, for pruning
	return read(g)
}
