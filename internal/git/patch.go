package git

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	gitdiff "github.com/go-git/go-git/v5/utils/diff"
	"github.com/sergi/go-diff/diffmatchpatch"

	"github.com/ferry-ci/ferry/internal/change"
)

// diffTimeout bounds one file's diff; past it the rest of the file is
// one deletion and one insertion — a larger patch, never a wrong one.
// With MaxFileBytes it keeps a cancelled read from running on.
const diffTimeout = 2 * time.Second

// contentReader reads the contents of changed files within the limits.
type contentReader struct {
	ctx  context.Context
	s    storer.EncodedObjectStorer
	lim  Limits
	used int64
}

// sizer is how the filesystem storage tells an object's size from its
// header, without inflating it.
type sizer interface {
	EncodedObjectSize(plumbing.Hash) (int64, error)
}

// read turns deltas into files, reading the smallest first so the byte
// budget covers as many files as it can (and a large file cannot push a
// small one out). complete is false when a file was left without its
// patch for a limit.
func (r *contentReader) read(ds []delta) (files []change.File, complete bool, err error) {
	files = make([]change.File, len(ds))
	sizes := make([][2]int64, len(ds))
	order := make([]int, len(ds))
	for i, x := range ds {
		if err := r.ctx.Err(); err != nil {
			return nil, false, err
		}
		files[i] = fileOfDelta(x)
		if sizes[i], err = r.sizes(x); err != nil {
			return nil, false, err
		}
		files[i].Size = sizes[i][1]
		if x.to == nil {
			files[i].Size = sizes[i][0]
		}
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return sizes[order[a]][0]+sizes[order[a]][1] < sizes[order[b]][0]+sizes[order[b]][1]
	})
	complete = true
	for _, i := range order {
		if err := r.ctx.Err(); err != nil {
			return nil, false, err
		}
		if !readable(ds[i]) {
			continue
		}
		from, to := sizes[i][0], sizes[i][1]
		if r.lim.MaxFileBytes > 0 && max(from, to) > r.lim.MaxFileBytes {
			complete = false
			continue
		}
		if r.lim.MaxPatchBytes > 0 && r.used+from+to > r.lim.MaxPatchBytes {
			return files, false, nil // the rest are larger still
		}
		r.used += from + to
		if err := r.patch(&files[i], ds[i], sizes[i]); err != nil {
			return nil, false, err
		}
	}
	return files, complete, nil
}

// readable: both sides are contents (not a submodule's commit), and
// they differ (not a rename or mode change alone).
func readable(x delta) bool {
	if x.from != nil && x.to != nil && x.from.Hash == x.to.Hash {
		return false
	}
	return (x.from == nil || x.from.Mode != filemode.Submodule) && (x.to == nil || x.to.Mode != filemode.Submodule)
}

func fileOfDelta(x delta) change.File {
	f := change.File{Path: x.path, Status: change.Modified}
	switch {
	case x.oldPath != "":
		f.Status, f.PreviousPath = change.Renamed, x.oldPath
	case x.from == nil:
		f.Status = change.Added
	case x.to == nil:
		f.Status = change.Removed
	}
	return f
}

func (r *contentReader) sizes(x delta) (s [2]int64, err error) {
	for i, e := range []*object.TreeEntry{x.from, x.to} {
		if e == nil || e.Mode == filemode.Submodule {
			continue
		}
		if s[i], err = r.size(e.Hash); err != nil {
			return s, fmt.Errorf("size of %s: %w", x.path, err)
		}
	}
	return s, nil
}

func (r *contentReader) size(h plumbing.Hash) (int64, error) {
	if sz, ok := r.s.(sizer); ok {
		return sz.EncodedObjectSize(h)
	}
	o, err := r.s.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return 0, err
	}
	return o.Size(), nil
}

// patch reads both versions of a file (at most the sizes their headers
// gave) and fills in its patch and line counts.
func (r *contentReader) patch(f *change.File, x delta, sizes [2]int64) error {
	var text [2]string
	for i, e := range []*object.TreeEntry{x.from, x.to} {
		if e == nil {
			continue
		}
		b, err := r.blob(e.Hash, sizes[i])
		if err != nil {
			return fmt.Errorf("read %s: %w", x.path, err)
		}
		if binary(b) {
			return nil // as GitHub lists it: no patch, no line counts
		}
		text[i] = b
	}
	f.Patch, f.Additions, f.Deletions = unified(r.diff(text[0], text[1]))
	return nil
}

// diff is a line diff of two texts; an addition or a removal needs none
// of the algorithm.
func (r *contentReader) diff(from, to string) []diffmatchpatch.Diff {
	switch {
	case from == "":
		return []diffmatchpatch.Diff{{Type: diffmatchpatch.DiffInsert, Text: to}}
	case to == "":
		return []diffmatchpatch.Diff{{Type: diffmatchpatch.DiffDelete, Text: from}}
	}
	timeout := diffTimeout
	if dl, ok := r.ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	return gitdiff.DoWithTimeout(from, to, timeout)
}

func (r *contentReader) blob(h plumbing.Hash, size int64) (string, error) {
	b, err := object.GetBlob(r.s, h)
	if err != nil {
		return "", err
	}
	rd, err := b.Reader()
	if err != nil {
		return "", err
	}
	defer rd.Close()
	var sb strings.Builder // read straight into the string the patch is made from
	sb.Grow(int(size))
	_, err = io.Copy(&sb, io.LimitReader(rd, size))
	return sb.String(), err
}

// binary as git tells it: a NUL byte in the first 8000.
func binary(s string) bool { return strings.IndexByte(s[:min(len(s), 8000)], 0) >= 0 }
