package git

import (
	"fmt"
	"io"

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
