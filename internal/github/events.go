package github

import (
	"fmt"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/install"
)

// Repo is the repository an event is about.
type Repo struct {
	ID             int64
	Owner, Name    string
	DefaultBranch  string
	CloneURL       string
	HTMLURL        string // https://github.com/OWNER/NAME, for links
	InstallationID int64
}

// FullName is owner/name.
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

// Actor is who made an event happen.
type Actor struct {
	Login string
	Bot   bool
}

// Ping is GitHub saying hello to a new webhook.
type Ping struct{ Zen string }

// InstallationChange is an installation created, deleted, suspended or
// unsuspended, or given new permissions; or repositories added to or
// removed from it.
type InstallationChange struct {
	Action       string
	Installation install.Installation
	Added        []install.Repository // created lists every selected repository here
	Removed      []int64
}

// PullRequestChange is a pull request opened, pushed to, reopened or made
// ready, and who did it.
type PullRequestChange struct {
	Action string
	Repo   Repo
	PR     forge.PullRequest
	Sender Actor
}

// PushCommit is a commit of a push with the paths it touched.
type PushCommit struct {
	SHA     string
	Message string
	At      time.Time
	Paths   []string
}

// Push is a push to a branch.
type Push struct {
	Repo          Repo
	Branch        string // "" when the ref is not a branch
	Before, After string
	Deleted       bool
	Commits       []PushCommit
}

// Comment is an issue or pull request comment created or edited.
type Comment struct {
	Action    string
	Repo      Repo
	Number    int
	IsPR      bool
	ID        int64
	Body      string
	Author    Actor
	CreatedAt time.Time
}

// Button is a press of a check run's button (requested_action).
type Button struct {
	Repo       Repo
	Identifier string
	CheckName  string
	HeadSHA    string
	// PullRequests lists the pull requests whose head is the run's commit,
	// with the repository each is in (a fork's may name this one as base).
	PullRequests []ButtonPR
	Sender       Actor
}

// ButtonPR is a pull request a check run names.
type ButtonPR struct {
	Number     int
	BaseRepoID int64
}

// CheckSuite is an app's check suite completed on a commit.
type CheckSuite struct {
	Repo                            Repo
	AppID                           int64
	HeadBranch, HeadSHA, Conclusion string
}

// WorkflowRun is a GitHub Actions workflow run (one attempt of it) that
// completed.
type WorkflowRun struct {
	Repo                            Repo
	ID                              int64
	Attempt                         int
	Name                            string // the workflow's
	HeadSHA, HeadBranch, Conclusion string
	Fork                            bool // it ran a fork's code (a pull request from a fork)
}

// Status is a commit status set.
type Status struct {
	Repo     Repo
	SHA      string
	State    string
	Branches []string
}

// ParseEvent reads a stored delivery's payload into the event ferry acts
// on, once. An event ferry does not know is returned as nil; a payload
// that does not parse is a permanent error.
func ParseEvent(d event.Delivery) (any, error) {
	payload, err := gh.ParseWebHook(d.Event, d.Payload)
	if err != nil {
		return nil, event.Permanent(fmt.Errorf("parse %s payload: %w", d.Event, err))
	}
	switch e := payload.(type) {
	case *gh.PingEvent:
		return Ping{Zen: e.GetZen()}, nil
	case *gh.InstallationEvent:
		return installationChange(e.GetAction(), e.GetInstallation(), e.Repositories, nil)
	case *gh.InstallationRepositoriesEvent:
		return installationChange(e.GetAction(), e.GetInstallation(), e.RepositoriesAdded, e.RepositoriesRemoved)
	case *gh.PullRequestEvent:
		return pullRequestChange(e), nil
	case *gh.PushEvent:
		return push(e), nil
	case *gh.IssueCommentEvent:
		return comment(e), nil
	case *gh.CheckRunEvent:
		return button(e), nil
	case *gh.CheckSuiteEvent:
		cs := e.GetCheckSuite()
		return CheckSuite{Repo: repoOf(e.GetRepo(), e.GetInstallation()), AppID: cs.GetApp().GetID(),
			HeadBranch: cs.GetHeadBranch(), HeadSHA: cs.GetHeadSHA(), Conclusion: cs.GetConclusion()}, nil
	case *gh.DeploymentProtectionRuleEvent:
		return gateRequested(e), nil
	case *gh.WorkflowRunEvent:
		wr := e.GetWorkflowRun()
		return WorkflowRun{Repo: repoOf(e.GetRepo(), e.GetInstallation()), ID: wr.GetID(), Attempt: wr.GetRunAttempt(),
			Name: wr.GetName(), HeadSHA: wr.GetHeadSHA(), HeadBranch: wr.GetHeadBranch(), Conclusion: wr.GetConclusion(),
			Fork: wr.GetHeadRepository().GetID() != 0 && wr.GetHeadRepository().GetID() != e.GetRepo().GetID()}, nil
	case *gh.StatusEvent:
		s := Status{Repo: repoOf(e.GetRepo(), e.GetInstallation()), SHA: e.GetSHA(), State: e.GetState()}
		for _, b := range e.Branches {
			s.Branches = append(s.Branches, b.GetName())
		}
		return s, nil
	}
	return nil, nil
}

func repoOf(r *gh.Repository, inst *gh.Installation) Repo {
	owner := r.GetOwner().GetLogin()
	if owner == "" { // push payloads name the owner "name" in older shapes
		owner = r.GetOwner().GetName()
	}
	return Repo{ID: r.GetID(), Owner: owner, Name: r.GetName(), DefaultBranch: r.GetDefaultBranch(),
		CloneURL: r.GetCloneURL(), HTMLURL: r.GetHTMLURL(), InstallationID: inst.GetID()}
}

func actorOf(u *gh.User) Actor {
	return Actor{Login: u.GetLogin(), Bot: u.GetType() == "Bot" || strings.HasSuffix(u.GetLogin(), "[bot]")}
}

func installationChange(action string, in *gh.Installation, added []*gh.Repository, removed []*gh.Repository) (InstallationChange, error) {
	if in.GetID() == 0 {
		return InstallationChange{}, event.Permanent(fmt.Errorf("installation event without an installation"))
	}
	c := InstallationChange{Action: action, Installation: install.Installation{ID: in.GetID(),
		AccountLogin: in.GetAccount().GetLogin(), AccountType: in.GetAccount().GetType()}}
	for _, r := range added {
		c.Added = append(c.Added, install.Repository{ID: r.GetID(), InstallationID: in.GetID(), FullName: r.GetFullName(), Private: r.GetPrivate()})
	}
	for _, r := range removed {
		c.Removed = append(c.Removed, r.GetID())
	}
	return c, nil
}

func pullRequestChange(e *gh.PullRequestEvent) PullRequestChange {
	p := e.GetPullRequest()
	return PullRequestChange{Action: e.GetAction(), Repo: repoOf(e.GetRepo(), e.GetInstallation()), PR: pullRequestOf(p),
		Sender: actorOf(e.GetSender())}
}

func pullRequestOf(p *gh.PullRequest) forge.PullRequest {
	// List endpoints' pull requests have no "merged", only merged_at.
	out := forge.PullRequest{Number: p.GetNumber(), State: p.GetState(), Merged: p.GetMerged() || p.MergedAt != nil, Author: p.GetUser().GetLogin(),
		HeadSHA: p.GetHead().GetSHA(), HeadRef: p.GetHead().GetRef(), HeadRepo: headRepoOf(p),
		BaseRef: p.GetBase().GetRef(), BaseSHA: p.GetBase().GetSHA(), UpdatedAt: p.GetUpdatedAt().Time,
		CloneURL: p.GetBase().GetRepo().GetCloneURL(), Title: p.GetTitle(), MergeCommitSHA: p.GetMergeCommitSHA(), Body: p.GetBody()}
	for _, l := range p.Labels {
		out.Labels = append(out.Labels, l.GetName())
	}
	return out
}

// DeletedFork is the head repository of a pull request whose head
// repository GitHub no longer names (head.repo null: a fork deleted since)
// or names as another repository than the base with the base's name: a
// fork, never the base repository.
const DeletedFork = "(deleted fork)"

// headRepoOf is the pull request's head repository's full name, decided
// by id: only a head repository with the base's id is the base's.
func headRepoOf(p *gh.PullRequest) string {
	head, base := p.GetHead().GetRepo(), p.GetBase().GetRepo()
	switch {
	case p.Head != nil && head == nil:
		return DeletedFork
	case head.GetID() != 0 && base.GetID() != 0 && head.GetID() != base.GetID() && strings.EqualFold(head.GetFullName(), base.GetFullName()):
		return DeletedFork
	}
	return head.GetFullName()
}

func push(e *gh.PushEvent) Push {
	r := e.GetRepo()
	p := Push{Repo: Repo{ID: r.GetID(), Owner: r.GetOwner().GetLogin(), Name: r.GetName(), DefaultBranch: r.GetDefaultBranch(),
		CloneURL: r.GetCloneURL(), InstallationID: e.GetInstallation().GetID()},
		Before: e.GetBefore(), After: e.GetAfter(), Deleted: e.GetDeleted()}
	if p.Repo.Owner == "" { // push payloads name the owner "name" in older shapes
		p.Repo.Owner = r.GetOwner().GetName()
	}
	p.Branch, _ = strings.CutPrefix(e.GetRef(), "refs/heads/")
	if !strings.HasPrefix(e.GetRef(), "refs/heads/") {
		p.Branch = ""
	}
	for _, c := range e.Commits {
		paths := append(append(append([]string{}, c.Added...), c.Modified...), c.Removed...)
		p.Commits = append(p.Commits, PushCommit{SHA: c.GetID(), Message: c.GetMessage(), At: c.GetTimestamp().Time, Paths: paths})
	}
	return p
}

func comment(e *gh.IssueCommentEvent) Comment {
	c := e.GetComment()
	return Comment{Action: e.GetAction(), Repo: repoOf(e.GetRepo(), e.GetInstallation()), Number: e.GetIssue().GetNumber(),
		IsPR: e.GetIssue().IsPullRequest(), ID: c.GetID(), Body: c.GetBody(), Author: actorOf(c.GetUser()),
		CreatedAt: c.GetCreatedAt().Time}
}

func button(e *gh.CheckRunEvent) any {
	if e.GetAction() != "requested_action" {
		return nil
	}
	b := Button{Repo: repoOf(e.GetRepo(), e.GetInstallation()), CheckName: e.GetCheckRun().GetName(),
		HeadSHA: e.GetCheckRun().GetHeadSHA(), Sender: actorOf(e.GetSender())}
	if e.RequestedAction != nil {
		b.Identifier = e.RequestedAction.Identifier
	}
	for _, pr := range e.GetCheckRun().PullRequests {
		b.PullRequests = append(b.PullRequests, ButtonPR{Number: pr.GetNumber(), BaseRepoID: pr.GetBase().GetRepo().GetID()})
	}
	return b
}
