package releaseagent

import (
	"context"
	"errors"
	"sort"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/risk"
)

// enrich adds what git does not know to the commits: the pull request of
// each first-parent commit that does not name one (rebase merges, through
// GitHub's "pull requests associated with a commit"), each pull request's
// title, labels and author login, ferry's risk level for it, and the
// environments each commit has reached. Reads are bounded by MaxLookups;
// a failed read leaves the commit as git describes it (the notes stay
// complete, only less rich), and is logged.
func (a *Agent) enrich(ctx context.Context, gh GitHub, r Repo, in *release.Input, envs map[string]string) {
	budget := a.cfg.MaxLookups
	byPR := map[int][]int{} // pull request → indexes of its commits
	claimed, verified := map[int]bool{}, map[int]bool{}
	mainline := firstParent(in.Commits)
	sideClaims(in.Commits, mainline)
	for _, i := range mainline {
		c := &in.Commits[i]
		if n := prOf(c.Message); n > 0 {
			c.PR, claimed[i] = n, true
		} else if len(c.Parents) == 1 && budget > 0 {
			budget--
			c.PR = a.associated(ctx, gh, r, c.SHA)
		}
		if c.PR > 0 {
			byPR[c.PR] = append(byPR[c.PR], i)
		}
	}
	numbers := make([]int, 0, len(byPR))
	for n := range byPR {
		numbers = append(numbers, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(numbers))) // the newest first, when the budget runs out
	for _, n := range numbers {
		if budget <= 0 {
			break
		}
		budget--
		pr, err := gh.PullRequest(ctx, r.Owner, r.Name, n)
		if err != nil {
			a.cfg.Logger.WarnContext(ctx, "release notes: pull request not read", "repository", r.fullName(), "pr", n, "err", err)
			continue
		}
		level := a.riskOf(ctx, r, n)
		for _, i := range byPR[n] {
			c := &in.Commits[i]
			if claimed[i] && !(pr.Merged && pr.BaseRef == r.DefaultBranch && pr.MergeCommitSHA == c.SHA) {
				// A number in a message is a claim: a pull request merged
				// as another commit lends it nothing — not a label that
				// would hide it, nor a title, an author or a risk.
				a.cfg.Logger.InfoContext(ctx, "release notes: a commit names a pull request it was not merged as", "sha", c.SHA, "pr", n)
				continue
			}
			verified[i] = true
			c.PRTitle, c.Labels, c.Risk = pr.Title, pr.Labels, level
			if c.Author.Login == "" && len(c.Parents) < 2 {
				c.Author.Login = pr.Author
			}
		}
	}
	for i := range claimed {
		if !verified[i] {
			// Unchecked (past the budget, or unreadable) or false: its own
			// entry, never grouped under — and hidden by — another's.
			in.Commits[i].PR = release.NoPR
		}
	}
	reached(in.Commits, envs)
}

// prOf is the pull request a commit's message names: a squash merge's
// "(#123)" or a merge commit's "Merge pull request #123".
func prOf(message string) int {
	if n, _, ok := release.MergePR(message); ok {
		return n
	}
	_, n := release.SubjectPR(release.Subject(message))
	return n
}

// associated is the merged pull request GitHub associates with a commit,
// or 0.
func (a *Agent) associated(ctx context.Context, gh GitHub, r Repo, sha string) int {
	prs, err := gh.CommitPullRequests(ctx, r.Owner, r.Name, sha)
	if err != nil {
		a.cfg.Logger.WarnContext(ctx, "release notes: pull requests of a commit not read", "repository", r.fullName(), "sha", sha, "err", err)
		return 0
	}
	for _, p := range prs {
		if p.Merged && p.BaseRef == r.DefaultBranch {
			return p.Number
		}
	}
	return 0
}

// riskOf is ferry's latest risk level for a pull request, "" unknown.
func (a *Agent) riskOf(ctx context.Context, r Repo, number int) risk.Level {
	rec, err := a.deps.Signals.LatestAssessment(ctx, r.ID, number, "")
	if err != nil {
		if !errors.Is(err, assessment.ErrNotFound) {
			a.cfg.Logger.WarnContext(ctx, "release notes: assessment not read", "pr", number, "err", err)
		}
		return ""
	}
	if rec.Level == assessment.LevelInvalidPolicy {
		return ""
	}
	return rec.Level
}

// firstParent lists the commits of the range on the head's first-parent
// chain (those that landed on the branch directly: squash and rebase
// merges, merge commits), by index; in is oldest first, so the head is
// last.
func firstParent(commits []release.Commit) []int {
	at := make(map[string]int, len(commits))
	for i, c := range commits {
		at[c.SHA] = i
	}
	var out []int
	for i, ok := len(commits)-1, len(commits) > 0; ok; {
		out = append(out, i)
		if len(commits[i].Parents) == 0 {
			break
		}
		i, ok = at[commits[i].Parents[0]]
	}
	return out
}

// deployed is the commit each environment of the policy runs now, as
// ferry deployed it (its newest succeeded deploy).
func (a *Agent) deployed(ctx context.Context, r Repo, pol policy.Policy) (map[string]string, error) {
	out := map[string]string{}
	for name := range pol.Environments {
		ds, err := a.deps.Signals.Deploys(ctx, r.ID, name)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Status == deploy.Succeeded {
				out[name] = d.SHA
				break
			}
		}
	}
	return out, nil
}

// reached marks each commit with the environments whose deployed commit
// has it in its history (within the range).
func reached(commits []release.Commit, envs map[string]string) {
	if len(envs) == 0 {
		return
	}
	at := make(map[string]int, len(commits))
	for i, c := range commits {
		at[c.SHA] = i
	}
	names := make([]string, 0, len(envs))
	for n := range envs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, env := range names {
		start, ok := at[envs[env]]
		if !ok {
			continue // deployed before the range, or something not on this branch
		}
		seen := map[int]bool{start: true}
		for queue := []int{start}; len(queue) > 0; queue = queue[1:] {
			i := queue[0]
			commits[i].Environments = append(commits[i].Environments, env)
			for _, p := range commits[i].Parents {
				if j, ok := at[p]; ok && !seen[j] {
					seen[j] = true
					queue = append(queue, j)
				}
			}
		}
	}
}

// sideClaims marks the commits off the mainline whose subject claims a
// pull request ("(#N)"): a merge brought them, and theirs is the merge's
// pull request — never the one they name, which GitHub was not asked about.
func sideClaims(commits []release.Commit, mainline []int) {
	on := make(map[int]bool, len(mainline))
	for _, i := range mainline {
		on[i] = true
	}
	for i := range commits {
		c := &commits[i]
		if on[i] || c.PR != 0 {
			continue
		}
		if _, n := release.SubjectPR(release.Subject(c.Message)); n > 0 {
			c.PR = release.NoPR
		}
	}
}
