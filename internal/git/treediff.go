package git

import (
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// diffTrees calls visit for each file that differs between the trees from
// and to (zero hash: none) under prefix, with nil on the side it is
// missing from, walking into directories; a file replaced by a directory
// (or the reverse) is visited besides the directory's files. read reads a
// tree's entries (through a cache, with a deadline: the caller's).
func diffTrees(read func(plumbing.Hash) ([]object.TreeEntry, error), prefix string, from, to plumbing.Hash,
	visit func(path string, from, to *object.TreeEntry) error) error {
	a, err := read(from)
	if err != nil {
		return err
	}
	b, err := read(to)
	if err != nil {
		return err
	}
	old := make(map[string]*object.TreeEntry, len(a))
	for i := range a {
		old[a[i].Name] = &a[i]
	}
	for i := range b {
		e := &b[i]
		o := old[e.Name]
		delete(old, e.Name)
		if o != nil && o.Hash == e.Hash && o.Mode == e.Mode {
			continue
		}
		if err := diffPair(read, prefix+e.Name, o, e, visit); err != nil {
			return err
		}
	}
	for i := range a {
		if o := old[a[i].Name]; o != nil {
			if err := diffPair(read, prefix+o.Name, o, nil, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

// diffPair visits one entry that differs; a directory on either side is
// walked, and a file replaced by a directory (or the reverse) is both.
func diffPair(read func(plumbing.Hash) ([]object.TreeEntry, error), path string, from, to *object.TreeEntry,
	visit func(path string, from, to *object.TreeEntry) error) error {
	fromDir, toDir := from != nil && from.Mode == filemode.Dir, to != nil && to.Mode == filemode.Dir
	if !fromDir && !toDir {
		return visit(path, from, to)
	}
	var fh, th plumbing.Hash
	if fromDir {
		fh, from = from.Hash, nil
	}
	if toDir {
		th, to = to.Hash, nil
	}
	if err := diffTrees(read, path+"/", fh, th, visit); err != nil {
		return err
	}
	if from != nil || to != nil {
		return visit(path, from, to)
	}
	return nil
}
