package git

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/ferry-ci/ferry/internal/calibrate"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/riskmodel"
)

// HistoryOptions bound a first-parent read.
type HistoryOptions struct {
	Max       int         // newest N commits at most
	WithLines bool        // per-file added/deleted lines (a diff per commit) and SZZ weak labels
	Since     time.Time   // zero: no bound; older commits are not read
	Progress  func(n int) // called every 500 commits, may be nil
	// Known, when set, ends the walk at the first commit it knows: what
	// was read before (a server learning only what is new).
	Known func(sha string) bool
}

// History is a first-parent history, oldest first.
type History struct {
	Commits []calibrate.Commit
	Skipped []string // SHAs of commits that could not be read (missing objects), left out
}

// historyWalk is the state of one FirstParent read.
type historyWalk struct {
	g       *Repo
	o       HistoryOptions
	h       History
	targets []revertTarget   // what the commits read so far revert
	fixes   []*object.Commit // fix commits to blame from (WithLines)
	walked  int              // read or skipped
}

// revertTarget is a SHA (or prefix) a revert names, and the revert.
type revertTarget struct{ sha, by string }

// FirstParent walks first-parent history back from c and returns it oldest
// first, with reverts linked both ways and, WithLines, fixes linked to the
// commits SZZ blames. A commit that cannot be read (a blob missing from a
// partial clone) is skipped, not fatal: one bad object should not cost a
// whole replay.
func (g *Repo) FirstParent(ctx context.Context, c *object.Commit, o HistoryOptions) (History, error) {
	w := &historyWalk{g: g, o: o}
	for c != nil && w.walked < o.Max {
		if err := ctx.Err(); err != nil {
			return History{}, fmt.Errorf("walk history: %w", err)
		}
		// Committer time, not author time: it follows first-parent order
		// even when rebases keep old author dates.
		if !o.Since.IsZero() && c.Committer.When.Before(o.Since) {
			break
		}
		if o.Known != nil && o.Known(c.Hash.String()) {
			break
		}
		w.add(c)
		c = w.parent(c)
	}
	w.h.Commits = reversed(w.h.Commits)
	w.h.Skipped = reversed(w.h.Skipped)
	linkReverts(w.h.Commits, w.targets)
	if err := w.linkFixes(ctx); err != nil {
		return History{}, err
	}
	return w.h, nil
}

// add reads one commit, or records it as skipped.
func (w *historyWalk) add(c *object.Commit) {
	w.walked++
	if w.o.Progress != nil && w.walked%500 == 0 {
		w.o.Progress(w.walked)
	}
	hc, err := historyCommit(c, w.o.WithLines)
	if err != nil {
		w.h.Skipped = append(w.h.Skipped, c.Hash.String())
		return
	}
	if sha, ok := change.Reverts(c.Message); ok {
		hc.Reverts = []string{sha}
		w.targets = append(w.targets, revertTarget{sha: sha, by: hc.SHA})
	}
	if w.o.WithLines && !hc.IsRevert && (riskmodel.IsFix(hc.Subject) || riskmodel.IsFix(hc.Title)) {
		w.fixes = append(w.fixes, c)
	}
	w.h.Commits = append(w.h.Commits, hc)
}

// parent is c's first parent, or nil at the root or when it cannot be
// loaded: the walk cannot go past a missing commit, so it is recorded as
// skipped and the walk ends there.
func (w *historyWalk) parent(c *object.Commit) *object.Commit {
	if c.NumParents() == 0 {
		return nil
	}
	p, err := c.Parent(0)
	if err != nil {
		w.h.Skipped = append(w.h.Skipped, c.ParentHashes[0].String())
		return nil
	}
	return p
}

// linkFixes marks the commits each fix's SZZ blames, if they were read
// and are older than the fix.
func (w *historyWalk) linkFixes(ctx context.Context) error {
	index := make(map[string]int, len(w.h.Commits))
	for i, c := range w.h.Commits {
		index[c.SHA] = i
	}
	for _, fix := range w.fixes {
		blamed, err := w.g.FixInducing(ctx, fix)
		if ctx.Err() != nil {
			return fmt.Errorf("weak labels: %w", ctx.Err())
		}
		if err != nil {
			continue // labels are weak evidence: one unreadable fix costs only its own
		}
		f := index[fix.Hash.String()]
		w.h.Commits[f].Fixes = blamed
		for _, sha := range blamed {
			if i, ok := index[sha]; ok && i < f {
				w.h.Commits[i].FixFollowup = true
				w.h.Commits[i].FixFollowupBy = append(w.h.Commits[i].FixFollowupBy, calibrate.Followup{SHA: fix.Hash.String()})
			}
		}
	}
	return nil
}

func reversed[T any](s []T) []T {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
	return s
}

func historyCommit(c *object.Commit, withLines bool) (calibrate.Commit, error) {
	hc := calibrate.Commit{SHA: c.Hash.String(), Date: c.Author.When, Subject: subject(c.Message),
		IsMerge: c.NumParents() > 1, Author: strings.ToLower(c.Author.Email)}
	hc.PR, hc.Title = pullRequest(c.Message)
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

var (
	squashPR = regexp.MustCompile(`\(#(\d+)\)$`)
	mergePR  = regexp.MustCompile(`^Merge pull request #(\d+)\b`)
)

// pullRequest reads the pull request a commit came from, as GitHub writes
// it: a squash merge's subject ends with "(#123)", a merge commit's starts
// with "Merge pull request #123 from …" and its body holds the title.
func pullRequest(message string) (pr *int, title string) {
	subj, body, _ := strings.Cut(message, "\n")
	subj = strings.TrimSpace(subj)
	if m := mergePR.FindStringSubmatch(subj); m != nil {
		return number(m[1]), firstLine(body)
	}
	if m := squashPR.FindStringSubmatch(subj); m != nil {
		return number(m[1]), ""
	}
	return nil, ""
}

func number(s string) *int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil // too long to be a pull request
	}
	return &n
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return ""
}

// changedPaths lists the paths a commit changes against its first parent,
// without diffing contents.
func changedPaths(c *object.Commit) ([]string, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(c), err)
	}
	if c.NumParents() == 0 {
		var paths []string
		err := tree.Files().ForEach(func(f *object.File) error { paths = append(paths, f.Name); return nil })
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("files of %s: %w", short(c), err)
		}
		return paths, nil
	}
	p, err := c.Parent(0)
	if err != nil {
		return nil, fmt.Errorf("parent of %s: %w", short(c), err)
	}
	parentTree, err := p.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree of %s: %w", short(p), err)
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

// linkReverts marks each commit a revert named, and by which revert: the
// revert's time is when the label became known.
func linkReverts(commits []calibrate.Commit, targets []revertTarget) {
	for _, t := range targets {
		for i := range commits {
			if strings.HasPrefix(commits[i].SHA, t.sha) {
				commits[i].Reverted = true
				commits[i].RevertedBy = append(commits[i].RevertedBy, t.by)
			}
		}
	}
}
