package git

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ferry-ci/ferry/internal/release"
)

// OpenHistory opens the repository containing dir to read much history
// (ReleaseRange): its pack files stay open and objects are cached, where
// Open reopens a pack for every object. Close releases them.
func OpenHistory(dir string) (*Repo, error) {
	r, err := gogit.PlainOpenWithOptions(dir, &gogit.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	fs, ok := r.Storer.(*filesystem.Storage)
	if !ok {
		return &Repo{r: r}, nil
	}
	st := filesystem.NewStorageWithOptions(fs.Filesystem(), cache.NewObjectLRU(objectCacheBytes),
		filesystem.Options{MaxOpenDescriptors: 16, LargeObjectThreshold: largeObject})
	kept, err := gogit.Open(st, nil)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	return &Repo{r: kept, st: st}, nil
}

// Tag is a tag and the commit it names (an annotated tag's target).
type Tag struct{ Name, SHA string }

// Tags lists the repository's tags that name commits.
func (g *Repo) Tags() ([]Tag, error) {
	iter, err := g.r.Tags()
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	var out []Tag
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		h := ref.Hash()
		if t, err := g.r.TagObject(h); err == nil { // annotated: peel
			c, err := t.Commit()
			if err != nil {
				return nil // a tag of a tree or a blob names no release
			}
			h = c.Hash
		} else if _, err := object.GetCommit(g.r.Storer, h); err != nil {
			return nil // a lightweight tag of a tree or a blob
		}
		out = append(out, Tag{Name: ref.Name().Short(), SHA: h.String()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// NearestTags walks back from head, newest commit first (by committer
// time, as git describe does), to the first commit that carries a tag
// keep accepts, and returns those tags; none when no ancestor has one.
func (g *Repo) NearestTags(ctx context.Context, head *object.Commit, keep func(name string) bool) ([]Tag, error) {
	tags, err := g.Tags()
	if err != nil {
		return nil, err
	}
	on := map[plumbing.Hash][]Tag{}
	for _, t := range tags {
		if keep(t.Name) {
			on[plumbing.NewHash(t.SHA)] = append(on[plumbing.NewHash(t.SHA)], t)
		}
	}
	if len(on) == 0 {
		return nil, nil
	}
	q := &byTime{head}
	seen := map[plumbing.Hash]bool{head.Hash: true}
	for q.Len() > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c := heap.Pop(q).(*object.Commit)
		if ts := on[c.Hash]; ts != nil {
			return ts, nil
		}
		for _, p := range c.ParentHashes {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := object.GetCommit(g.r.Storer, p)
			if err != nil {
				return nil, fmt.Errorf("walk history: %w", err)
			}
			heap.Push(q, pc)
		}
	}
	return nil, nil
}

// byTime is a max-heap of commits by committer time.
type byTime []*object.Commit

func (h byTime) Len() int           { return len(h) }
func (h byTime) Less(i, j int) bool { return h[i].Committer.When.After(h[j].Committer.When) }
func (h byTime) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byTime) Push(x any)        { *h = append(*h, x.(*object.Commit)) }
func (h *byTime) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// Range is what a release covers.
type Range struct {
	// Commits are reachable from head and not from base, oldest first in
	// topological order: a merge's side-branch commits right before it.
	Commits []release.Commit
	// Earlier are the names and e-mail addresses of everyone who authored
	// a commit reachable from base (none without a base).
	Earlier []string
}

// ReleaseRange reads the commits from base (exclusive; nil for the whole
// history) to head with their whole messages, authors, parents and the
// paths each changes against its first parent (trees only, never file
// contents), and who contributed before.
func (g *Repo) ReleaseRange(ctx context.Context, base, head *object.Commit) (Range, error) {
	before := map[plumbing.Hash]bool{}
	earlier := map[string]bool{}
	if base != nil {
		err := g.ancestors(ctx, base, func(c *object.Commit) {
			before[c.Hash] = true
			earlier[c.Author.Name], earlier[strings.ToLower(c.Author.Email)] = true, true
		})
		if err != nil {
			return Range{}, err
		}
	}
	order, err := g.topological(ctx, head, before)
	if err != nil {
		return Range{}, err
	}
	trees := treeCache{s: g.r.Storer, trees: map[plumbing.Hash]*object.Tree{}}
	inRange := make(map[plumbing.Hash]*object.Commit, len(order))
	r := Range{Commits: make([]release.Commit, 0, len(order))}
	for n, c := range order {
		if n%256 == 0 && ctx.Err() != nil {
			return Range{}, ctx.Err()
		}
		inRange[c.Hash] = c
		rc, err := g.releaseCommit(c, inRange, &trees)
		if err != nil {
			return Range{}, err
		}
		r.Commits = append(r.Commits, rc)
	}
	for e := range earlier {
		if e != "" {
			r.Earlier = append(r.Earlier, e)
		}
	}
	sort.Strings(r.Earlier)
	return r, nil
}

// ancestors calls fn once for c and each of its ancestors.
func (g *Repo) ancestors(ctx context.Context, c *object.Commit, fn func(*object.Commit)) error {
	seen := map[plumbing.Hash]bool{c.Hash: true}
	stack := []*object.Commit{c}
	for n := 0; len(stack) > 0; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		fn(c)
		for _, p := range c.ParentHashes {
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := object.GetCommit(g.r.Storer, p)
			if errors.Is(err, plumbing.ErrObjectNotFound) {
				continue // a shallow history ends here
			}
			if err != nil {
				return fmt.Errorf("walk history: %w", err)
			}
			stack = append(stack, pc)
		}
	}
	return nil
}

// topological lists head and its ancestors outside stop, parents before
// children: a depth-first walk, first parents first, each commit listed
// after all its parents.
func (g *Repo) topological(ctx context.Context, head *object.Commit, stop map[plumbing.Hash]bool) ([]*object.Commit, error) {
	type frame struct {
		c    *object.Commit
		next int // the next parent to visit
	}
	var out []*object.Commit
	if stop[head.Hash] {
		return nil, nil
	}
	seen := map[plumbing.Hash]bool{head.Hash: true}
	stack := []frame{{c: head}}
	for len(stack) > 0 {
		if len(out)%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		top := &stack[len(stack)-1]
		if top.next == len(top.c.ParentHashes) {
			out = append(out, top.c)
			stack = stack[:len(stack)-1]
			continue
		}
		p := top.c.ParentHashes[top.next]
		top.next++
		if seen[p] || stop[p] {
			continue
		}
		seen[p] = true
		pc, err := object.GetCommit(g.r.Storer, p)
		if errors.Is(err, plumbing.ErrObjectNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("walk history: %w", err)
		}
		stack = append(stack, frame{c: pc})
	}
	return out, nil
}

// releaseCommit reads one commit as package release takes it; its
// parents are in known (the range, read before it) or in the store.
func (g *Repo) releaseCommit(c *object.Commit, known map[plumbing.Hash]*object.Commit, trees *treeCache) (release.Commit, error) {
	rc := release.Commit{SHA: c.Hash.String(), Message: c.Message,
		Author: release.Author{Name: c.Author.Name, Email: c.Author.Email}}
	for _, p := range c.ParentHashes {
		rc.Parents = append(rc.Parents, p.String())
	}
	var parentTree plumbing.Hash
	if len(c.ParentHashes) > 0 {
		p, ok := known[c.ParentHashes[0]]
		if !ok {
			var err error
			p, err = object.GetCommit(g.r.Storer, c.ParentHashes[0])
			if err != nil && !errors.Is(err, plumbing.ErrObjectNotFound) {
				return rc, fmt.Errorf("read parent of %s: %w", short(c), err)
			}
		}
		if p != nil {
			parentTree = p.TreeHash
		}
	}
	if err := trees.paths("", parentTree, c.TreeHash, &rc.Files); err != nil {
		return rc, fmt.Errorf("paths of %s: %w", short(c), err)
	}
	return rc, nil
}

// maxCachedTrees bounds treeCache: consecutive commits share most
// trees, so a few thousand spare most reads and decodes.
const maxCachedTrees = 4096

// treeCache lists the paths two trees differ in, reading trees only
// (never file contents) and keeping decoded trees for the next commit.
type treeCache struct {
	s     storer.EncodedObjectStorer
	trees map[plumbing.Hash]*object.Tree
}

func (t *treeCache) tree(h plumbing.Hash) ([]object.TreeEntry, error) {
	if h.IsZero() {
		return nil, nil
	}
	if tr, ok := t.trees[h]; ok {
		return tr.Entries, nil
	}
	tr, err := object.GetTree(t.s, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	if len(t.trees) == maxCachedTrees {
		clear(t.trees) // simpler than an LRU, and the next commits refill it
	}
	t.trees[h] = tr
	return tr.Entries, nil
}

// paths appends to out the paths under prefix that differ between the
// trees from and to; a directory on one side only is listed whole.
func (t *treeCache) paths(prefix string, from, to plumbing.Hash, out *[]string) error {
	return diffTrees(t.tree, prefix, from, to, func(path string, _, _ *object.TreeEntry) error {
		*out = append(*out, path)
		return nil
	})
}
