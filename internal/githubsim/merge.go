package githubsim

import (
	"fmt"
	"time"
)

// MergePullRequest merges an open pull request as login by: it is closed
// and merged (merged_by, merged_at, merge_commit_sha), and its base branch
// moves to a new merge commit (parents: the base's tip and the head),
// which it returns. No event is sent: PullRequestClosed sends
// pull_request.closed, and Push(repo, base, before, mergeSHA, …) the push
// (before: Ref(repo, "heads/"+base) read first). base...mergeSHA compares
// to the pull request's files and commits. A repository served with
// ServeGit is not changed.
func (s *Sim) MergePullRequest(repo string, number int, by string) (mergeSHA string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	pr, ok := r.pulls[number]
	if !ok || pr.State != "open" {
		s.t.Fatalf("githubsim: MergePullRequest: %s#%d is not an open pull request", repo, number)
	}
	base := r.refs["heads/"+pr.Base]
	mergeSHA = fakeSHA(repo, "merge", fmt.Sprint(number), base, pr.HeadSHA)
	parents := []string{pr.HeadSHA}
	if base != "" {
		parents = []string{base, pr.HeadSHA}
	}
	tree := fakeSHA(repo, mergeSHA, "tree")
	if head, ok := r.commits[pr.HeadSHA]; ok && pr.Base != r.DefaultBranch {
		// Merged into a branch that only ever receives such merges (a
		// deploy branch), the result is the head's content.
		tree = head.Tree
	}
	r.commits[mergeSHA] = &GitCommit{SHA: mergeSHA, Tree: tree, Parents: parents,
		Message: fmt.Sprintf("Merge pull request #%d from %s/%s\n\n%s", number, r.Owner, pr.Head, pr.Title)}
	r.refs["heads/"+pr.Base] = mergeSHA
	r.compares[base+"..."+mergeSHA] = &PullRequest{BaseSHA: base, HeadSHA: mergeSHA, Files: pr.Files, Commits: pr.Commits}
	pr.State, pr.Merged, pr.MergedBy, pr.MergeCommitSHA = "closed", true, by, mergeSHA
	pr.MergedAt, pr.Closed, pr.Updated = s.now(), s.now(), s.now()
	return mergeSHA
}

// PullRequestClosed sends the real pull_request closed payload for a pull
// request: merged (after MergePullRequest; the sender is who merged it), or
// closed unmerged now by its author if it was still open.
func (s *Sim) PullRequestClosed(repo string, number int) (guid string, status int) {
	s.mu.Lock()
	if pr, ok := s.mustRepo(repo).pulls[number]; ok && pr.State == "open" {
		pr.State, pr.Closed, pr.Updated = "closed", s.now(), s.now()
	}
	body := s.pullRequestEvent("closed", repo, number, "", nil)
	s.mu.Unlock()
	return s.SendWebhook("pull_request", body)
}

// mergeState fills a pull request object's (REST or payload) closed and
// merged fields; those the object's shape lacks stay absent.
func (s *Sim) mergeState(m map[string]any, p *PullRequest) {
	m["closed_at"], m["merged_at"], m["merge_commit_sha"] = timeOrNil(p.Closed), timeOrNil(p.MergedAt), nullable(p.MergeCommitSHA)
	if _, ok := m["merged"]; ok {
		m["merged"] = p.Merged
	}
	if _, ok := m["merged_by"]; ok {
		m["merged_by"] = nil
		if p.Merged {
			m["merged_by"] = s.userObject(m["user"], p.MergedBy) // the author's object has every field a user has
		}
	}
}

func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return stamp(t)
}

// MergedAs records a pull request as merged by login into its base as the
// commit sha (a squash or rebase merge the test made in git itself): closed,
// merged, merge_commit_sha. No event is sent and no branch moves.
func (s *Sim) MergedAs(repo string, number int, sha, by string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr, ok := s.mustRepo(repo).pulls[number]
	if !ok {
		s.t.Fatalf("githubsim: MergedAs: no pull request %s#%d", repo, number)
	}
	pr.State, pr.Merged, pr.MergedBy, pr.MergeCommitSHA = "closed", true, by, sha
	pr.MergedAt, pr.Closed, pr.Updated = s.now(), s.now(), s.now()
}
