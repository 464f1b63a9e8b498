package git

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	gitdiff "github.com/go-git/go-git/v5/utils/diff"
	"github.com/go-git/go-git/v5/utils/merkletrie"
	"github.com/sergi/go-diff/diffmatchpatch"
)

// SZZ bounds: a fix touching more than this is rarely about one defect,
// and blame is the costly part of a history read.
const (
	szzMaxFiles    = 10
	szzMaxLines    = 200 // deleted lines blamed per file
	szzMaxFileSize = 512 << 10
	szzMaxHops     = 3 // blames past whitespace and refactor commits
)

// cosmeticWords are subjects of commits that move or reformat code
// without changing what it does: blame looks past them.
var cosmeticWords = regexp.MustCompile(`(?i)\b(refactor(s|ed|ing)?|reformat(s|ted|ting)?|format(s|ted|ting)?|gofmt|prettier|lint|renames?|renamed|whitespace|style)\b`)

// szz is one fix's blames, cached per commit and path: one blame per file,
// reused for all its lines.
type szz struct {
	g      *Repo
	ctx    context.Context
	blames map[string]*gogit.BlameResult
}

// FixInducing returns the commits that last touched the lines fix deletes
// or changes (SZZ): the likely origins of the defect it fixes. It blames
// from the fix's first parent, looks past whitespace-only and refactor
// commits, and ignores blank, punctuation-only and reindented lines. SHAs
// are sorted and unique. A file that cannot be blamed is left out.
func (g *Repo) FixInducing(ctx context.Context, fix *object.Commit) ([]string, error) {
	if fix.NumParents() == 0 {
		return nil, nil
	}
	parent, err := fix.Parent(0)
	if err != nil {
		return nil, fmt.Errorf("parent of %s: %w", short(fix), err)
	}
	changes, err := modifiedFiles(parent, fix)
	if err != nil {
		return nil, fmt.Errorf("changes of %s: %w", short(fix), err)
	}
	s := &szz{g: g, ctx: ctx, blames: map[string]*gogit.BlameResult{}}
	found := map[string]bool{}
	for _, ch := range changes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, sha := range s.file(parent, ch) {
			found[sha] = true
		}
	}
	var out []string
	for sha := range found {
		out = append(out, sha)
	}
	slices.Sort(out)
	return out, nil
}

// modifiedFiles are the regular files both parent and fix have that fix
// changes (added files delete nothing), at most szzMaxFiles.
func modifiedFiles(parent, fix *object.Commit) ([]*object.Change, error) {
	from, err := parent.Tree()
	if err != nil {
		return nil, err
	}
	to, err := fix.Tree()
	if err != nil {
		return nil, err
	}
	changes, err := object.DiffTree(from, to)
	if err != nil {
		return nil, err
	}
	var out []*object.Change
	for _, ch := range changes {
		a, err := ch.Action()
		if err != nil || a != merkletrie.Modify || !ch.From.TreeEntry.Mode.IsFile() || !ch.To.TreeEntry.Mode.IsFile() {
			continue
		}
		if out = append(out, ch); len(out) == szzMaxFiles {
			break
		}
	}
	return out, nil
}

// file blames the lines one change deletes or changes, in the parent.
func (s *szz) file(parent *object.Commit, ch *object.Change) []string {
	old, okOld := s.g.smallText(ch.From.TreeEntry.Hash)
	now, okNew := s.g.smallText(ch.To.TreeEntry.Hash)
	if !okOld || !okNew {
		return nil
	}
	var out []string
	for _, line := range changedLines(old, now) {
		if h, ok := s.origin(parent, ch.From.Name, line, 0); ok {
			out = append(out, h.String())
		}
	}
	return out
}

// smallText is a blob's text, unless it is missing, binary or too large
// to diff and blame cheaply.
func (g *Repo) smallText(h plumbing.Hash) (string, bool) {
	b, err := g.r.BlobObject(h)
	if err != nil || b.Size > szzMaxFileSize {
		return "", false
	}
	r, err := b.Reader()
	if err != nil {
		return "", false
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil || binary(string(data)) {
		return "", false
	}
	return string(data), true
}

// changedLines are the 0-based lines of old that new deletes or changes,
// at most szzMaxLines, leaving out lines that say nothing (blank or
// punctuation only) and lines new keeps with other whitespace (a
// reindent or a move fixes nothing).
func changedLines(old, new string) []int {
	deleted, inserted := lineDiff(old, new)
	kept := map[string]bool{}
	for _, l := range inserted {
		kept[stripSpace(l)] = true
	}
	oldLines := splitLines(old)
	var out []int
	for _, i := range deleted {
		l := stripSpace(oldLines[i])
		if !meaningful(l) || kept[l] {
			continue
		}
		if out = append(out, i); len(out) == szzMaxLines {
			break
		}
	}
	return out
}

// lineDiff returns the 0-based lines of old a line diff deletes, and the
// lines it inserts.
func lineDiff(old, new string) (deleted []int, inserted []string) {
	n := 0
	for _, d := range gitdiff.Do(old, new) {
		lines := splitLines(d.Text)
		switch d.Type {
		case diffmatchpatch.DiffDelete:
			for i := range lines {
				deleted = append(deleted, n+i)
			}
			n += len(lines)
		case diffmatchpatch.DiffInsert:
			inserted = append(inserted, lines...)
		default:
			n += len(lines)
		}
	}
	return deleted, inserted
}

// origin is the commit that introduced line of path at c: blame's answer,
// or, when that commit only reindented the line or says it refactors,
// the answer blame gives at its parent for the same line (up to
// szzMaxHops). ok is false when the line cannot be traced.
func (s *szz) origin(c *object.Commit, path string, line, hops int) (plumbing.Hash, bool) {
	if s.ctx.Err() != nil {
		return plumbing.ZeroHash, false
	}
	br, err := s.blame(c, path)
	if err != nil || line >= len(br.Lines) {
		return plumbing.ZeroHash, false
	}
	h := br.Lines[line].Hash
	if hops == szzMaxHops {
		return h, true
	}
	blamed, err := s.g.r.CommitObject(h)
	if err != nil || blamed.NumParents() == 0 {
		return h, err == nil
	}
	prev, prevLine, look, found := s.g.previousLine(blamed, path, line, stripSpace(br.Lines[line].Text))
	switch {
	case !look:
		return h, true
	case !found:
		return plumbing.ZeroHash, false // a refactor's own line: no origin to trust
	}
	return s.origin(prev, path, prevLine, hops+1)
}

// blame is go-git's blame of path at c, once per commit and path.
func (s *szz) blame(c *object.Commit, path string) (*gogit.BlameResult, error) {
	key := c.Hash.String() + ":" + path
	if br, ok := s.blames[key]; ok {
		return br, nil
	}
	br, err := gogit.Blame(c, path)
	if err != nil {
		return nil, fmt.Errorf("blame %s at %s: %w", path, short(c), err)
	}
	s.blames[key] = br
	return br, nil
}

// previousLine says whether blame should look past blamed for a line
// (stripped of whitespace; near index near) and, if so, where the line
// was in blamed's first parent. Past a whitespace-only change it was one
// of the lines blamed deleted; past a refactor, any line of the parent
// with the same text. found is false when the parent has no such line.
func (g *Repo) previousLine(blamed *object.Commit, path string, near int, text string) (prev *object.Commit, line int, look, found bool) {
	prev, err := blamed.Parent(0)
	if err != nil {
		return nil, 0, false, false
	}
	before, okBefore := g.textAt(prev, path)
	after, okAfter := g.textAt(blamed, path)
	var candidates []int
	if okBefore && okAfter {
		deleted, _ := lineDiff(before, after)
		candidates = matching(splitLines(before), deleted, text)
	}
	if len(candidates) > 0 {
		return prev, nearest(candidates, near), true, true // a reindent
	}
	if !cosmeticWords.MatchString(subject(blamed.Message)) {
		return nil, 0, false, false
	}
	if candidates = matching(splitLines(before), nil, text); len(candidates) == 0 {
		return nil, 0, true, false
	}
	return prev, nearest(candidates, near), true, true
}

// textAt is path's text at c, if it is there and small enough.
func (g *Repo) textAt(c *object.Commit, path string) (string, bool) {
	tree, err := c.Tree()
	if err != nil {
		return "", false
	}
	e, err := tree.FindEntry(path)
	if err != nil || !e.Mode.IsFile() {
		return "", false
	}
	return g.smallText(e.Hash)
}

// matching are the lines among only (all lines when only is nil) whose
// text without whitespace is text.
func matching(lines []string, only []int, text string) []int {
	var out []int
	if only == nil {
		for i, l := range lines {
			if stripSpace(l) == text {
				out = append(out, i)
			}
		}
		return out
	}
	for _, i := range only {
		if stripSpace(lines[i]) == text {
			out = append(out, i)
		}
	}
	return out
}

// nearest is the candidate line closest to near: where a line moved is
// unknown, but reindents and refactors rarely move it far.
func nearest(candidates []int, near int) int {
	best := candidates[0]
	for _, c := range candidates[1:] {
		if abs(c-near) < abs(best-near) {
			best = c
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// splitLines splits text into lines as blame numbers them: no empty line
// after a final newline.
func splitLines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// meaningful says whether a line (stripped of whitespace) holds more than
// punctuation and braces: "}" or ");" are in every hunk and blame nothing.
func meaningful(stripped string) bool {
	for _, r := range stripped {
		if !unicode.IsPunct(r) && !unicode.IsSymbol(r) {
			return true
		}
	}
	return false
}
