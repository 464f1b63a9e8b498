// Package git reads changes and their history from a local repository with
// go-git: for `ferry analyze`, `ferry calibrate --repo`, and pull requests
// larger than GitHub's API lists.
package git

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/diff"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/ferry-ci/ferry/internal/change"
)

// Repo is an open repository.
type Repo struct {
	r  *gogit.Repository
	st *filesystem.Storage // when opened here with bounded memory; closed by Close
}

// Close releases what the repository holds open (pack files).
func (g *Repo) Close() error {
	if g.st == nil {
		return nil
	}
	return g.st.Close()
}

// Open opens the repository containing dir.
func Open(dir string) (*Repo, error) {
	r, err := gogit.PlainOpenWithOptions(dir, &gogit.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	return &Repo{r: r}, nil
}

// Resolve turns a revision (branch, tag, SHA, HEAD~1) into a commit.
func (g *Repo) Resolve(rev string) (*object.Commit, error) {
	h, err := g.r.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolve %q: %w", rev, err)
	}
	c, err := g.r.CommitObject(*h)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return c, nil
}

// DefaultBase is what a branch is compared with when no base is given: its
// merge base with the default branch (origin/HEAD, main or master), or the
// parent of head when head is on the default branch itself.
func (g *Repo) DefaultBase(head *object.Commit) (*object.Commit, error) {
	for _, rev := range []string{"refs/remotes/origin/HEAD", "origin/main", "origin/master", "main", "master"} {
		def, err := g.Resolve(rev)
		if err != nil {
			continue
		}
		if def.Hash == head.Hash {
			break
		}
		bases, err := head.MergeBase(def)
		if err == nil && len(bases) > 0 && bases[0].Hash != head.Hash {
			return bases[0], nil
		}
	}
	if head.NumParents() == 0 {
		return nil, errors.New("head has no parent: nothing to compare with (pass --base)")
	}
	return head.Parent(0)
}

// Change is what head changes relative to base: files with patches, and
// the commits from base (exclusive) to head, newest first, at most 250.
func (g *Repo) Change(base, head *object.Commit) (change.Change, error) {
	patch, err := base.Patch(head)
	if err != nil {
		return change.Change{}, fmt.Errorf("diff %s..%s: %w", short(base), short(head), err)
	}
	ch := change.Change{Base: base.Hash.String(), Head: head.Hash.String(), Author: head.Author.Name}
	stats := map[string]object.FileStat{}
	for _, s := range patch.Stats() {
		stats[s.Name] = s
	}
	for _, fp := range patch.FilePatches() {
		ch.Files = append(ch.Files, fileOf(fp, stats))
	}
	ch.Commits, err = g.commitsBetween(base, head, 250)
	return ch, err
}

func fileOf(fp diff.FilePatch, stats map[string]object.FileStat) change.File {
	from, to := fp.Files()
	f := change.File{Status: change.Modified}
	switch {
	case from == nil:
		f.Path, f.Status = to.Path(), change.Added
	case to == nil:
		f.Path, f.Status = from.Path(), change.Removed
	default:
		f.Path = to.Path()
		if from.Path() != to.Path() {
			f.Status, f.PreviousPath = change.Renamed, from.Path()
		}
	}
	st := stats[f.Path]
	if f.PreviousPath != "" {
		st = stats[f.PreviousPath+" => "+f.Path]
	}
	f.Additions, f.Deletions = st.Addition, st.Deletion
	if !fp.IsBinary() {
		f.Patch = hunks(fp)
	}
	return f
}

// onePatch lets the unified encoder write one file's hunks.
type onePatch struct{ fp diff.FilePatch }

func (p onePatch) FilePatches() []diff.FilePatch { return []diff.FilePatch{p.fp} }
func (p onePatch) Message() string               { return "" }

// hunks returns a file's patch as GitHub's API gives it: the hunks only.
func hunks(fp diff.FilePatch) string {
	var b bytes.Buffer
	if err := diff.NewUnifiedEncoder(&b, diff.DefaultContextLines).Encode(onePatch{fp}); err != nil {
		return ""
	}
	s := b.String()
	if i := strings.Index(s, "\n@@"); i >= 0 {
		return s[i+1:]
	}
	return ""
}

func (g *Repo) commitsBetween(base, head *object.Commit, limit int) ([]change.Commit, error) {
	var out []change.Commit
	for c := head; c != nil && c.Hash != base.Hash && len(out) < limit; {
		out = append(out, change.Commit{SHA: c.Hash.String(), Subject: subject(c.Message), Author: c.Author.Name,
			Email: strings.ToLower(c.Author.Email), Date: c.Author.When})
		if c.NumParents() == 0 {
			break
		}
		p, err := c.Parent(0)
		if err != nil {
			return nil, fmt.Errorf("walk history: %w", err)
		}
		c = p
	}
	return out, nil
}

// FileAt returns a file's content at a commit, or nil if it is not there.
func (g *Repo) FileAt(c *object.Commit, path string) ([]byte, error) {
	f, err := c.File(path)
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, short(c), err)
	}
	s, err := f.Contents()
	return []byte(s), err
}

func subject(msg string) string {
	s, _, _ := strings.Cut(msg, "\n")
	return strings.TrimSpace(s)
}

func short(c *object.Commit) string { return c.Hash.String()[:8] }
