package git

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/ferry-ci/ferry/internal/change"
)

// Limits bound what reading a change may cost; zero means no limit. Past
// one, the change read is marked Truncated: partial.
type Limits struct {
	MaxFiles      int   // files listed
	MaxFileBytes  int64 // a file with a larger version is listed without its patch
	MaxPatchBytes int64 // content read for patches, in all
}

// ReadChange is what head changes relative to base, within lim: the files
// (renames only when exact: similarity would read every candidate), their
// patches as far as the byte limits allow, and the commits from base back
// to it or to where a shallow history ends. It stops when ctx is done.
func (g *Repo) ReadChange(ctx context.Context, base, head *object.Commit, lim Limits) (change.Change, error) {
	ch := change.Change{Base: base.Hash.String(), Head: head.Hash.String(), Author: head.Author.Name}
	d := treeDiff{ctx: ctx, s: g.r.Storer, max: lim.MaxFiles}
	if err := d.walk("", base.TreeHash, head.TreeHash); err != nil && !errors.Is(err, errFull) {
		return change.Change{}, fmt.Errorf("diff %s..%s: %w", short(base), short(head), err)
	}
	deltas := exactRenames(d.out)
	r := contentReader{ctx: ctx, s: g.r.Storer, lim: lim}
	files, complete, err := r.read(deltas)
	if err != nil {
		return change.Change{}, fmt.Errorf("read %s..%s: %w", short(base), short(head), err)
	}
	ch.Files, ch.Truncated = files, d.full || !complete
	ch.Commits = g.commitsUntil(base, head, 250)
	return ch, nil
}

// delta is one changed path: from is absent for an addition, to for a
// removal.
type delta struct {
	path, oldPath string
	from, to      *object.TreeEntry
}

// errFull stops a walk that has listed as many files as it may.
var errFull = errors.New("file limit reached")

// treeDiff lists the paths two trees differ in, reading only trees (never
// contents), and stops at max files so neither its time nor its memory
// grows with a change larger than that.
type treeDiff struct {
	ctx  context.Context
	s    storer.EncodedObjectStorer
	max  int
	out  []delta
	full bool // stopped at max: there is more
}

// walk lists what differs between the trees from and to under prefix.
func (d *treeDiff) walk(prefix string, from, to plumbing.Hash) error {
	return diffTrees(d.tree, prefix, from, to, func(path string, from, to *object.TreeEntry) error {
		return d.add(delta{path: path, from: from, to: to})
	})
}

func (d *treeDiff) add(x delta) error {
	if d.max > 0 && len(d.out) == d.max {
		d.full = true
		return errFull
	}
	d.out = append(d.out, x)
	return nil
}

func (d *treeDiff) tree(h plumbing.Hash) ([]object.TreeEntry, error) {
	if err := d.ctx.Err(); err != nil {
		return nil, err
	}
	if h.IsZero() {
		return nil, nil
	}
	t, err := object.GetTree(d.s, h)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	return t.Entries, nil
}

// exactRenames pairs a removal and an addition of the same content into
// a rename, as git does before it compares contents; then sorts by path,
// the order GitHub lists files in.
func exactRenames(ds []delta) []delta {
	removed := map[plumbing.Hash][]int{}
	for i, x := range ds {
		if x.to == nil && x.from.Mode.IsFile() {
			removed[x.from.Hash] = append(removed[x.from.Hash], i)
		}
	}
	gone := map[int]bool{}
	for i, x := range ds {
		if x.from != nil || !x.to.Mode.IsFile() || len(removed[x.to.Hash]) == 0 {
			continue
		}
		j := removed[x.to.Hash][0]
		removed[x.to.Hash] = removed[x.to.Hash][1:]
		ds[i].from, ds[i].oldPath, gone[j] = ds[j].from, ds[j].path, true
	}
	out := make([]delta, 0, len(ds)-len(gone))
	for i, x := range ds {
		if !gone[i] {
			out = append(out, x)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// commitsUntil lists head's first-parent history back to base (exclusive),
// newest first, at most limit; a shallow history ends the list early.
func (g *Repo) commitsUntil(base, head *object.Commit, limit int) []change.Commit {
	var out []change.Commit
	for c := head; c.Hash != base.Hash && len(out) < limit; {
		out = append(out, change.Commit{SHA: c.Hash.String(), Subject: subject(c.Message), Author: c.Author.Name,
			Email: strings.ToLower(c.Author.Email), Date: c.Author.When})
		p, err := c.Parent(0)
		if err != nil { // no parent, or not fetched
			break
		}
		c = p
	}
	return out
}
