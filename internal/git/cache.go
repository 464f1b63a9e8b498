package git

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/keylock"
)

// DefaultCacheMaxBytes is a Cache's disk quota unless it says otherwise.
const DefaultCacheMaxBytes = 2 << 30

// maxPacks: a repository fetched into this many times is fetched afresh;
// go-git looks an object up pack by pack, and nothing here repacks.
const maxPacks = 64

// Where the commits a read needs are kept in each repository: the same
// names every time, so old reads leave no refs behind.
const (
	refMerge = "refs/ferry/merge"
	refHead  = "refs/ferry/head"
	refBase  = "refs/ferry/base"
)

// Cache keeps one bare repository per key (a repository id) under Dir and
// reads pull requests from them, one at a time per repository.
//
// The repositories are kept because a fetch sends what it already has:
// fetching a pull request again after a push, or another pull request of
// the same repository, brings only the objects that are new, where a
// fresh fetch brings every file of both trees again.
type Cache struct {
	Dir string
	// MaxBytes is the disk quota (0: DefaultCacheMaxBytes). After each
	// read the least recently used repositories are removed until the
	// cache fits, never one being read; one fetch may bring at most this.
	MaxBytes int64
	// Now is the clock that stamps a repository's last use (time.Now).
	Now func() time.Time

	locks   keylock.Set
	mu      sync.Mutex
	busy    map[string]int // reads running or waiting, by key
	pruning sync.Mutex
}

// PullRequest is a pull request to read with git.
type PullRequest struct {
	URL, Username, Password string // the base repository, and a token
	Number                  int
	BaseRef                 string // the base branch
	HeadSHA                 string // the head the event named
}

// PullRequestChange fetches what pr needs into the repository kept under
// key — shallowly: two commits, not the history — and reads its change
// within lim.
//
// GitHub compares a pull request from the merge base of base and head, and
// a shallow fetch has no history to find it in. GitHub's test merge
// (refs/pull/N/merge) has it built in: its first parent is the base tip
// and diffing from there is what merging the pull request would change,
// so one fetch at depth 2 (the merge and its two parents) reads the change
// exactly. When there is no test merge for this head (a conflict, or
// GitHub has not made it yet), the base tip is diffed with the head
// instead, and the result is marked partial: files the base changed since
// the branch point show up too (more than the pull request changes, never
// less than merging it would).
func (c *Cache) PullRequestChange(ctx context.Context, key string, pr PullRequest, lim Limits) (change.Change, error) {
	if key == "" || strings.ContainsAny(key, `/\`) || !filepath.IsLocal(key) {
		return change.Change{}, fmt.Errorf("git cache key %q: not a plain name", key)
	}
	c.enter(key)
	unlock := c.locks.Lock(key)
	ch, err := c.read(ctx, filepath.Join(c.Dir, key), pr, lim)
	unlock()
	c.leave(key)
	c.prune()
	return ch, err
}

func (c *Cache) read(ctx context.Context, dir string, pr PullRequest, lim Limits) (change.Change, error) {
	if packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack")); len(packs) > maxPacks {
		os.RemoveAll(dir)
	}
	ch, err := c.readMerge(ctx, dir, pr, lim)
	if errors.Is(err, errNoTestMerge) {
		ch, err = c.readHead(ctx, dir, pr, lim)
	}
	now := c.now()
	os.Chtimes(dir, now, now) // the last use, for pruning
	return ch, err
}

var errNoTestMerge = errors.New("no test merge of this head")

// fetch is Fetch into dir; when it fails for any reason but a missing
// ref, dir is removed: a failed fetch can leave shallow records without
// their objects, and a temporary pack.
func (c *Cache) fetch(ctx context.Context, dir string, o FetchOptions) (*Repo, error) {
	g, err := Fetch(ctx, dir, o)
	if nm := (gogit.NoMatchingRefSpecError{}); err != nil && !errors.As(err, &nm) {
		os.RemoveAll(dir)
	}
	return g, err
}

func (c *Cache) readMerge(ctx context.Context, dir string, pr PullRequest, lim Limits) (change.Change, error) {
	g, err := c.fetch(ctx, dir, c.fetchOptions(pr, 2, fmt.Sprintf("+refs/pull/%d/merge:%s", pr.Number, refMerge)))
	if nm := (gogit.NoMatchingRefSpecError{}); errors.As(err, &nm) {
		return change.Change{}, errNoTestMerge
	}
	if err != nil {
		return change.Change{}, err
	}
	defer g.Close()
	m, err := g.Resolve(refMerge)
	if err != nil {
		return change.Change{}, err
	}
	if m.NumParents() != 2 || (pr.HeadSHA != "" && m.ParentHashes[1].String() != pr.HeadSHA) {
		return change.Change{}, errNoTestMerge // made for an earlier head
	}
	var base, head *object.Commit
	if base, err = m.Parent(0); err == nil {
		head, err = m.Parent(1)
	}
	if err != nil {
		return change.Change{}, fmt.Errorf("parents of the test merge: %w", err)
	}
	ch, err := g.ReadChange(ctx, base, m, lim)
	ch.Head, ch.Author, ch.Commits = head.Hash.String(), head.Author.Name, g.commitsUntil(base, head, 250)
	return ch, err
}

func (c *Cache) readHead(ctx context.Context, dir string, pr PullRequest, lim Limits) (change.Change, error) {
	g, err := c.fetch(ctx, dir, c.fetchOptions(pr, 1,
		fmt.Sprintf("+refs/pull/%d/head:%s", pr.Number, refHead), fmt.Sprintf("+refs/heads/%s:%s", pr.BaseRef, refBase)))
	if err != nil {
		return change.Change{}, err
	}
	defer g.Close()
	var base, head *object.Commit
	if base, err = g.Resolve(refBase); err == nil {
		head, err = g.Resolve(refHead)
	}
	if err != nil {
		return change.Change{}, err
	}
	if pr.HeadSHA != "" && head.Hash.String() != pr.HeadSHA {
		return change.Change{}, fmt.Errorf("pull request %d: head is %s now, not %s", pr.Number, short(head), pr.HeadSHA)
	}
	ch, err := g.ReadChange(ctx, base, head, lim)
	ch.Truncated = true // from the base tip, not the merge base: approximate
	return ch, err
}

func (c *Cache) fetchOptions(pr PullRequest, depth int, specs ...string) FetchOptions {
	return FetchOptions{URL: pr.URL, Username: pr.Username, Password: pr.Password, RefSpecs: specs, Depth: depth, MaxBytes: c.maxBytes()}
}

func (c *Cache) maxBytes() int64 {
	if c.MaxBytes > 0 {
		return c.MaxBytes
	}
	return DefaultCacheMaxBytes
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) enter(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy == nil {
		c.busy = map[string]int{}
	}
	c.busy[key]++
	return c.busy[key]
}

func (c *Cache) leave(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy[key]--; c.busy[key] <= 0 {
		delete(c.busy, key)
	}
}

// prune removes the least recently used repositories until the cache
// fits its quota. One prune at a time; a read finishing meanwhile leaves
// it to this one.
func (c *Cache) prune() {
	if !c.pruning.TryLock() {
		return
	}
	defer c.pruning.Unlock()
	repos, total := c.usage()
	for _, r := range repos {
		if total <= c.maxBytes() {
			return
		}
		if c.evict(r.key) {
			total -= r.size
		}
	}
}

type cached struct {
	key  string
	used time.Time
	size int64
}

// usage lists the repositories, least recently used first, and their
// total size.
func (c *Cache) usage() ([]cached, int64) {
	entries, _ := os.ReadDir(c.Dir)
	var (
		repos []cached
		total int64
	)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !e.IsDir() {
			continue
		}
		r := cached{key: e.Name(), used: info.ModTime()}
		filepath.WalkDir(filepath.Join(c.Dir, e.Name()), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if fi, err := d.Info(); err == nil {
					r.size += fi.Size()
				}
			}
			return nil
		})
		repos, total = append(repos, r), total+r.size
	}
	sort.Slice(repos, func(i, j int) bool { return repos[i].used.Before(repos[j].used) })
	return repos, total
}

// evict removes one repository unless a read is running or waiting for
// it (then it is in use, not the least recently used).
func (c *Cache) evict(key string) bool {
	if c.enter(key) > 1 {
		c.leave(key)
		return false
	}
	defer c.leave(key)
	defer c.locks.Lock(key)() // free: nobody was busy with it
	c.mu.Lock()
	waiting := c.busy[key] > 1
	c.mu.Unlock()
	return !waiting && os.RemoveAll(filepath.Join(c.Dir, key)) == nil
}
