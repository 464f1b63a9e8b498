package release

import (
	"sort"
	"strconv"
	"strings"
)

// minTitleMatch: a revert is matched to an earlier change by its quoted
// subject only when that subject is at least this long ("Fix" alone
// matches too much).
const minTitleMatch = 12

// finder finds the drafts a revert names.
type finder struct {
	shas    []string // sorted, for abbreviated SHAs
	draftOf map[string]int
	byPR    map[int]int
	byTitle map[string][]int
}

func newFinder(cs []Commit, ds []*draft) finder {
	f := finder{draftOf: map[string]int{}, byPR: map[int]int{}, byTitle: map[string][]int{}}
	for k, d := range ds {
		for _, i := range d.commits {
			f.draftOf[cs[i].SHA] = k
			f.shas = append(f.shas, cs[i].SHA)
		}
		if d.pr > 0 {
			f.byPR[d.pr] = k
		}
		if len(d.title) >= minTitleMatch {
			f.byTitle[d.title] = append(f.byTitle[d.title], k)
		}
	}
	sort.Strings(f.shas)
	return f
}

// commit finds the commit a full or abbreviated SHA names.
func (f finder) commit(prefix string) (string, bool) {
	i := sort.SearchStrings(f.shas, prefix)
	if i < len(f.shas) && strings.HasPrefix(f.shas[i], prefix) {
		return f.shas[i], true
	}
	return "", false
}

// target is one thing a revert names, found in the range.
type target struct {
	draft int
	sha   string // the commit named; "" when found by pull request or title
}

// targets lists what draft k names that is in the range and older. The
// evidence is taken in order of strength, the first kind present decides:
// git's "This reverts commit <sha>" lines; GitHub's "Reverts owner/repo#N";
// the "(#N)" of the subject the revert quotes; that subject itself.
func (f finder) targets(cs []Commit, ds []*draft, k int) (found []target, named Reverted) {
	d := ds[k]
	var prs []int
	for _, i := range d.commits {
		s, p := RevertTargets(cs[i].Message)
		for _, x := range s {
			named.SHA = firstNonEmpty(named.SHA, x)
			if full, ok := f.commit(x); ok && f.draftOf[full] != k {
				found = append(found, target{draft: f.draftOf[full], sha: full})
			}
		}
		prs = append(prs, p...)
	}
	inner, _ := RevertTitle(d.title)
	inner, pr := SubjectPR(inner)
	named.Subject = inner
	reapply := strings.HasPrefix(d.title, "Reapply ")
	if named.SHA == "" && len(prs) == 0 && pr > 0 && !reapply {
		prs = []int{pr}
	}
	if named.PR = pr; len(prs) > 0 {
		named.PR = prs[0]
	}
	if reapply {
		named.PR = 0 // it quotes the original, not what it reverts
	}
	if named.SHA == "" {
		for _, n := range prs {
			if j, ok := f.byPR[n]; ok && j != k {
				found = append(found, target{draft: j})
			}
		}
	}
	if named.SHA == "" && len(prs) == 0 {
		if reapply {
			inner = `Revert "` + inner + `"`
		}
		if j, ok := f.titled(inner, k); ok {
			found = append(found, target{draft: j})
		}
	}
	var older []target
	for _, t := range found {
		if t.draft < k {
			older = append(older, t)
		}
	}
	return older, named
}

// titled finds the most recent draft before k with this title.
func (f finder) titled(title string, k int) (int, bool) {
	js := f.byTitle[title]
	for i := len(js) - 1; i >= 0; i-- {
		if js[i] < k {
			return js[i], true
		}
	}
	return 0, false
}

// resolveReverts leaves reverted pairs out. Newest first, a revert (a
// draft whose subject is a revert) cancels what it names in the range and
// itself; a cancelled revert cancels nothing, so a revert of a revert
// brings the original back. A revert of one commit of a multi-commit pull
// request removes that commit only. A revert of nothing in the range
// reverts an earlier release's change: it stays, naming it.
func resolveReverts(cs []Commit, ds []*draft) []Skipped {
	f := newFinder(cs, ds)
	var skipped []Skipped
	for k := len(ds) - 1; k >= 0; k-- {
		d := ds[k]
		if d.cancelled || !d.isRevert {
			continue
		}
		found, named := f.targets(cs, ds, k)
		if len(found) == 0 {
			d.reverts = &named
			continue
		}
		by := describe(cs, d)
		for _, t := range found {
			e := ds[t.draft]
			if e.cancelled {
				continue
			}
			if t.sha != "" && len(e.commits) > 1 && (t.sha != cs[e.head].SHA || len(cs[e.head].Parents) <= 1) {
				skipped = append(skipped, e.remove(cs, t.sha, "reverted within this release by "+by))
				if e.live(cs) {
					continue
				}
			}
			e.cancelled = true
			skipped = append(skipped, e.skip(cs, SkipReverted, "reverted within this release by "+by)...)
		}
		d.cancelled = true
		skipped = append(skipped, d.skip(cs, SkipRevert, "reverts "+describe(cs, ds[found[0].draft])+" within this release")...)
	}
	return skipped
}

// remove takes one commit of a rebase merge out of its draft (or one
// side commit of a merge); the newest left becomes its head.
func (d *draft) remove(cs []Commit, sha, why string) Skipped {
	for n, i := range d.commits {
		if cs[i].SHA == sha {
			d.commits = append(d.commits[:n:n], d.commits[n+1:]...)
			break
		}
	}
	if cs[d.head].SHA == sha {
		d.head = d.commits[len(d.commits)-1]
	}
	return Skipped{SHA: sha, Reason: SkipReverted, Why: why}
}

// live tells whether a draft has a change left: a commit that is not a
// merge.
func (d *draft) live(cs []Commit) bool {
	for _, i := range d.commits {
		if len(cs[i].Parents) <= 1 {
			return true
		}
	}
	return false
}

// skip lists every commit of a draft as skipped.
func (d *draft) skip(cs []Commit, r SkipReason, why string) []Skipped {
	out := make([]Skipped, len(d.commits))
	for n, i := range d.commits {
		out[n] = Skipped{SHA: cs[i].SHA, Reason: r, Why: why}
	}
	return out
}

// describe names a draft for people: "#12 (abc12345)" or "abc12345".
func describe(cs []Commit, d *draft) string {
	s := short(cs[d.head].SHA)
	if d.pr > 0 {
		return "#" + strconv.Itoa(d.pr) + " (" + s + ")"
	}
	return s
}

func short(sha string) string {
	if len(sha) > 8 {
		return sha[:8]
	}
	return sha
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
