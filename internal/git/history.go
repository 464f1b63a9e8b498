package git

import (
	"fmt"
	"io"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/change"
)

// FirstParent walks first-parent history back from c, at most max commits,
// and returns it oldest first, with reverts linked both ways. withLines
// computes added/deleted lines per file (slow: a diff per commit); without
// it only the changed paths are read. progress, if not nil, is called
// every 500 commits.
func (g *Repo) FirstParent(c *object.Commit, max int, withLines bool, progress func(n int)) ([]calibrate.Commit, error) {
	var (
		out     []calibrate.Commit
		targets []string // SHAs (or prefixes) that reverts name
	)
	for c != nil && len(out) < max {
		hc, err := g.historyCommit(c, withLines)
		if err != nil {
			return nil, err
		}
		if sha, ok := change.Reverts(c.Message); ok {
			targets = append(targets, sha)
		}
		out = append(out, hc)
		if progress != nil && len(out)%500 == 0 {
			progress(len(out))
		}
		if c.NumParents() == 0 {
			break
		}
		if c, err = c.Parent(0); err != nil {
			return nil, fmt.Errorf("walk history: %w", err)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	linkReverts(out, targets)
	return out, nil
}

func (g *Repo) historyCommit(c *object.Commit, withLines bool) (calibrate.Commit, error) {
	hc := calibrate.Commit{SHA: c.Hash.String(), Date: c.Author.When, Subject: subject(c.Message), IsMerge: c.NumParents() > 1}
	_, hc.IsRevert = change.Reverts(c.Message)
	if withLines {
		stats, err := c.Stats()
		if err != nil {
			return hc, fmt.Errorf("stats of %s: %w", short(c), err)
		}
		for _, s := range stats {
			hc.Files = append(hc.Files, calibrate.File{Path: s.Name, Added: s.Addition, Deleted: s.Deletion})
		}
		return hc, nil
	}
	paths, err := changedPaths(c)
	for _, p := range paths {
		hc.Files = append(hc.Files, calibrate.File{Path: p})
	}
	return hc, err
}

// changedPaths lists the paths a commit changes against its first parent,
// without diffing contents.
func changedPaths(c *object.Commit) ([]string, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(c), err)
	}
	var parentTree *object.Tree
	if c.NumParents() > 0 {
		p, err := c.Parent(0)
		if err != nil {
			return nil, err
		}
		if parentTree, err = p.Tree(); err != nil {
			return nil, err
		}
	} else {
		var paths []string
		err := tree.Files().ForEach(func(f *object.File) error { paths = append(paths, f.Name); return nil })
		if err != nil && err != io.EOF {
			return nil, err
		}
		return paths, nil
	}
	changes, err := object.DiffTree(parentTree, tree)
	if err != nil {
		return nil, fmt.Errorf("diff tree of %s: %w", short(c), err)
	}
	var paths []string
	for _, ch := range changes {
		name := ch.To.Name
		if name == "" {
			name = ch.From.Name
		}
		paths = append(paths, name)
	}
	return paths, nil
}

// linkReverts marks each commit a revert named.
func linkReverts(commits []calibrate.Commit, targets []string) {
	for _, t := range targets {
		for i := range commits {
			if strings.HasPrefix(commits[i].SHA, t) {
				commits[i].Reverted = true
			}
		}
	}
}
