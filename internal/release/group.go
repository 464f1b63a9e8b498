package release

import (
	"slices"
	"sort"
)

// draft is an entry being built: the commits of one pull request, or one
// commit that came from none.
type draft struct {
	head    int   // the commit that brought it to the branch (index into the range)
	commits []int // indexes, oldest first
	pr      int

	title     string // the pull request's or the commit's subject, "(#N)" stripped
	header    Header
	labels    []string
	breaking  bool
	note      string    // a breaking-change footer's text
	reverts   *Reverted // set when it reverts something released before
	isRevert  bool
	cancelled bool
}

// graph is the range's commit graph: which mainline merge brought each
// side-branch commit.
type graph struct {
	index    map[string]int // SHA → index
	mainline []bool         // on the first-parent line from the tip
	owner    []int          // the mainline merge that brought a side commit; -1 otherwise
}

// newGraph walks the first-parent line back from the range's tip, then
// gives each side-branch commit to the oldest mainline merge it is
// reachable from: processing merges oldest first, a merge's walk stops at
// commits already given, so each gets exactly what it brought in.
func newGraph(cs []Commit) graph {
	g := graph{index: make(map[string]int, len(cs)), mainline: make([]bool, len(cs)), owner: make([]int, len(cs))}
	for i, c := range cs {
		g.index[c.SHA] = i
		g.owner[i] = -1
	}
	isParent := make([]bool, len(cs))
	for _, c := range cs {
		for _, p := range c.Parents {
			if j, ok := g.index[p]; ok {
				isParent[j] = true
			}
		}
	}
	var merges []int
	for tip := len(cs) - 1; tip >= 0; tip-- {
		if isParent[tip] || g.mainline[tip] {
			continue
		}
		for i, ok := tip, true; ok && !g.mainline[i]; i, ok = g.parent(cs, i) {
			g.mainline[i] = true
			if len(cs[i].Parents) > 1 {
				merges = append(merges, i)
			}
		}
	}
	sort.Ints(merges) // oldest first: input order is topological
	for _, m := range merges {
		g.claim(cs, m)
	}
	return g
}

// parent is a commit's first parent within the range.
func (g graph) parent(cs []Commit, i int) (int, bool) {
	if len(cs[i].Parents) == 0 {
		return 0, false
	}
	j, ok := g.index[cs[i].Parents[0]]
	return j, ok
}

// claim gives merge m the side commits it brought in.
func (g graph) claim(cs []Commit, m int) {
	stack := []string{}
	stack = append(stack, cs[m].Parents[1:]...)
	for len(stack) > 0 {
		sha := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		j, ok := g.index[sha]
		if !ok || g.mainline[j] || g.owner[j] >= 0 {
			continue
		}
		g.owner[j] = m
		stack = append(stack, cs[j].Parents...)
	}
}

// prs reads each commit's pull request: the caller's, else GitHub's merge
// message, else a squash subject's "(#N)", else the merge that brought it.
func prs(cs []Commit, g graph) []int {
	own := make([]int, len(cs))
	for i, c := range cs {
		switch n, _, merge := MergePR(c.Message); {
		case c.PR == NoPR:
		case c.PR > 0:
			own[i] = c.PR
		case merge:
			own[i] = n
		default:
			_, own[i] = SubjectPR(Subject(c.Message))
		}
	}
	out := slices.Clone(own)
	for i := range cs {
		if out[i] == 0 && g.owner[i] >= 0 {
			out[i] = own[g.owner[i]]
		}
	}
	return out
}

// group makes the drafts: one per pull request, one per other non-merge
// commit. A merge commit heads its pull request's draft when it is the
// pull request's merge (GitHub's message, or on the mainline with a pull
// request the caller or its subject names); any other merge is skipped.
func group(cs []Commit) ([]*draft, []Skipped) {
	g := newGraph(cs)
	pr := prs(cs, g)
	byPR := map[int]*draft{}
	var (
		out     []*draft
		skipped []Skipped
	)
	for i, c := range cs {
		if len(c.Parents) > 1 {
			_, _, ghMerge := MergePR(c.Message)
			if pr[i] == 0 || !ghMerge && !g.mainline[i] {
				skipped = append(skipped, Skipped{SHA: c.SHA, Reason: SkipMerge, Why: "merge commit: " + Subject(c.Message)})
				continue
			}
		}
		if pr[i] == 0 {
			out = append(out, &draft{head: i, commits: []int{i}})
			continue
		}
		d := byPR[pr[i]]
		if d == nil {
			d = &draft{head: -1, pr: pr[i]}
			byPR[pr[i]] = d
			out = append(out, d)
		}
		d.commits = append(d.commits, i)
	}
	for _, d := range out {
		if d.head >= 0 {
			continue
		}
		d.head = d.commits[len(d.commits)-1]
		for _, i := range d.commits {
			if g.mainline[i] {
				d.head = i // the newest mainline commit: the squash or merge, or a rebase's last
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].head < out[b].head })
	return out, skipped
}
