package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxTreeFile bounds what Tree.Read returns: selection reads sources and
// go.mod files, never a large blob.
const maxTreeFile = 4 << 20

// Tree is a commit's files, read from the object store (no checkout).
type Tree struct {
	t     *object.Tree
	paths []string
}

// Tree lists a commit's files (regular files and executables; links and
// submodules are not files a build reads here).
func (g *Repo) Tree(c *object.Commit) (*Tree, error) {
	t, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(c), err)
	}
	out := &Tree{t: t}
	walker := object.NewTreeWalker(t, true, nil)
	defer walker.Close()
	for {
		name, entry, err := walker.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("walk the tree of %s: %w", short(c), err)
		}
		if entry.Mode == filemode.Regular || entry.Mode == filemode.Executable {
			out.paths = append(out.paths, name)
		}
	}
	return out, nil
}

// Paths lists the files, slash-separated.
func (t *Tree) Paths() []string { return t.paths }

// Read returns a file's content (at most 4 MiB).
func (t *Tree) Read(path string) ([]byte, error) {
	f, err := t.t.File(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if f.Size > maxTreeFile {
		return nil, fmt.Errorf("read %s: %d bytes, more than %d", path, f.Size, maxTreeFile)
	}
	r, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	return io.ReadAll(r)
}

// ChangedPaths lists the paths head changes relative to base: added,
// modified and deleted, a rename as both its names. Contents are not
// diffed.
func (g *Repo) ChangedPaths(base, head *object.Commit) ([]string, error) {
	bt, err := base.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(base), err)
	}
	ht, err := head.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(head), err)
	}
	changes, err := object.DiffTree(bt, ht)
	if err != nil {
		return nil, fmt.Errorf("diff %s..%s: %w", short(base), short(head), err)
	}
	var out []string
	for _, ch := range changes {
		if ch.From.Name != "" {
			out = append(out, ch.From.Name)
		}
		if ch.To.Name != "" && ch.To.Name != ch.From.Name {
			out = append(out, ch.To.Name)
		}
	}
	return out, nil
}

// PullRequestTree reads, with the repository kept under key, the tree CI
// tests for a pull request — GitHub's test merge, fetched at depth 2 — the
// base's tree, and the paths merging it changes; read gets all three.
// Without a test merge for this head the head's own tree is read, with the
// paths that differ from the base tip (more than the pull request changes,
// never fewer than merging it would).
func (c *Cache) PullRequestTree(ctx context.Context, key string, pr PullRequest, read func(head, base *Tree, changed []string) error) error {
	if key == "" || strings.ContainsAny(key, `/\`) || !filepath.IsLocal(key) {
		return fmt.Errorf("git cache key %q: not a plain name", key)
	}
	c.enter(key)
	unlock := c.locks.Lock(key)
	err := c.readTree(ctx, filepath.Join(c.Dir, key), pr, read)
	unlock()
	c.leave(key)
	c.prune()
	return err
}

func (c *Cache) readTree(ctx context.Context, dir string, pr PullRequest, read func(head, base *Tree, changed []string) error) error {
	if packs, _ := filepath.Glob(filepath.Join(dir, "objects", "pack", "*.pack")); len(packs) > maxPacks {
		os.RemoveAll(dir)
	}
	defer func() { now := c.now(); os.Chtimes(dir, now, now) }()
	g, err := c.fetch(ctx, dir, c.fetchOptions(pr, 2, fmt.Sprintf("+refs/pull/%d/merge:%s", pr.Number, refMerge)))
	var base, head *object.Commit
	if err == nil {
		defer g.Close()
		m, rerr := g.Resolve(refMerge)
		if rerr == nil && m.NumParents() == 2 && (pr.HeadSHA == "" || m.ParentHashes[1].String() == pr.HeadSHA) {
			head = m
			base, err = m.Parent(0)
		}
	} else if nm := (gogit.NoMatchingRefSpecError{}); !errors.As(err, &nm) {
		return err
	} else {
		err = nil // no test merge (a conflict, say): read head and base apart
	}
	if head == nil && err == nil {
		if g, err = c.fetch(ctx, dir, c.fetchOptions(pr, 1, fmt.Sprintf("+refs/pull/%d/head:%s", pr.Number, refHead),
			fmt.Sprintf("+refs/heads/%s:%s", pr.BaseRef, refBase))); err != nil {
			return err
		}
		defer g.Close()
		if base, err = g.Resolve(refBase); err == nil {
			head, err = g.Resolve(refHead)
		}
	}
	if err != nil {
		return err
	}
	tree, baseTree, changed, err := g.Trees(base, head)
	if err != nil {
		return err
	}
	return read(tree, baseTree, changed)
}

// Trees are a change's two trees and the paths it changes: what a test
// selection reads.
func (g *Repo) Trees(base, head *object.Commit) (headTree, baseTree *Tree, changed []string, err error) {
	if headTree, err = g.Tree(head); err != nil {
		return nil, nil, nil, err
	}
	if baseTree, err = g.Tree(base); err != nil {
		return nil, nil, nil, err
	}
	changed, err = g.ChangedPaths(base, head)
	return headTree, baseTree, changed, err
}

// IsDir reports whether path is a directory of the tree.
func (t *Tree) IsDir(path string) bool {
	if path == "." || path == "" {
		return true
	}
	_, err := t.t.Tree(path)
	return err == nil
}

// maxContextFile bounds one file a Dockerfile's build context is read for.
const maxContextFile = 1 << 20

// Context reads the tree under dir as a Dockerfile's build context: a
// file's content, (nil, true) for a directory, nothing outside dir and no
// file over 1 MiB.
func (t *Tree) Context(dir string) func(name string) ([]byte, bool) {
	return func(name string) ([]byte, bool) {
		if !filepath.IsLocal(name) {
			return nil, false
		}
		p := path.Join(dir, name)
		if t.IsDir(p) {
			return nil, true
		}
		data, err := t.Read(p)
		return data, err == nil && len(data) <= maxContextFile
	}
}
