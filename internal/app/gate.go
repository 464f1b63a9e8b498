package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/command"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
)

// CommandGitHub is what commands need from one installation's client.
type CommandGitHub interface {
	PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error)
	Permission(ctx context.Context, owner, repo, user string) (string, error)
	React(ctx context.Context, owner, repo string, commentID int64, content string) error
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
	FileContent(ctx context.Context, owner, repo, path, ref string) ([]byte, error)
	BranchHead(ctx context.Context, owner, repo, branch string) (string, error)
	RepoInfo(ctx context.Context, owner, repo string) (ghadapter.Repo, error)
}

// Control keeps what people decide: pauses and approvals (each with its
// audit decision, in one transaction), and which head a comment saw.
type Control interface {
	SetPause(ctx context.Context, repositoryID int64, p control.Pause, d audit.Decision, number int) error
	Resume(ctx context.Context, repositoryID int64, environment string, d audit.Decision, number int) (bool, error)
	Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error)
	Approve(ctx context.Context, repositoryID int64, number int, a control.Approval, d audit.Decision) error
	HeadAt(ctx context.Context, repositoryID int64, number int, at time.Time) (string, error)
}

// Audit keeps the audit trail.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
	Decisions(ctx context.Context, f audit.Filter) ([]audit.Decision, error)
	RecordOutcome(ctx context.Context, decisionID, outcome, actor string, at time.Time) error
}

// request is one person's (or bot's) attempt to steer ferry: a comment's
// commands or a check-run button.
type request struct {
	delivery     string // decisions derive their ids from it, so a retry records nothing twice
	installation int64
	repoID       int64
	owner, repo  string
	number       int
	isPR         bool
	actor        string
	bot          bool
	commentID    int64  // 0 for a button
	headSHA      string // a button's check run is bound to this head
	at           time.Time
	branch       string // the default branch, where the policy is read
	cloneURL     string // the repository's, for agents that read its history
	htmlURL      string
}

func (r request) fullName() string { return r.owner + "/" + r.repo }

// permissionTTL is how long a looked-up role is trusted: long enough to
// spare the API on a burst of commands, short enough that a revoked role
// stops working within a minute.
const permissionTTL = time.Minute

type permissionCache struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cachedRole
}

type cachedRole struct {
	role    command.Permission
	expires time.Time
}

func newPermissionCache(now func() time.Time) *permissionCache {
	return &permissionCache{now: now, entries: map[string]cachedRole{}}
}

func (c *permissionCache) get(ctx context.Context, gh CommandGitHub, r request) (command.Permission, error) {
	key := fmt.Sprintf("%d/%s/%s", r.installation, r.fullName(), strings.ToLower(r.actor))
	c.mu.Lock()
	e, ok := c.entries[key]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.role, nil
	}
	role, err := gh.Permission(ctx, r.owner, r.repo, r.actor)
	switch {
	case ghadapter.Classify(err) == ghadapter.KindNotFound:
		role = "none" // not a user GitHub knows on this repository
	case err != nil:
		return command.None, err
	}
	p := command.ParsePermission(role)
	c.mu.Lock()
	c.entries[key] = cachedRole{role: p, expires: c.now().Add(permissionTTL)}
	c.mu.Unlock()
	return p, nil
}

// gate is the one place that decides whether a command may act: it
// returns the refusal, or "" when the command may go ahead.
func gate(cmd command.Command, r request, perm command.Permission, fork bool, paused *control.Pause, pol policy.Loaded) string {
	need, named := cmd.Spec.Min, false
	// An invalid policy refuses every command that acts: falling back to
	// the defaults could loosen what the policy meant to require.
	if rule, ok := pol.Policy.Commands[cmd.Verb()]; ok {
		if rule.Permission != "" {
			need = command.ParsePermission(rule.Permission)
		}
		named = slices.ContainsFunc(rule.Users, func(u string) bool { return strings.EqualFold(u, r.actor) })
	}
	switch {
	case r.bot:
		return "bots never trigger commands"
	case !pol.Usable() && need > command.Read:
		return policy.Path + " on the default branch is invalid; fix it first"
	case cmd.Spec.NeedsPR && !r.isPR:
		return "/ferry " + cmd.Verb() + " works on pull requests only"
	case named:
	case perm < need && fork:
		return fmt.Sprintf("/ferry %s needs %s permission; the author of a pull request from a fork has read", cmd.Verb(), need)
	case perm < need:
		return fmt.Sprintf("/ferry %s needs %s permission; you have %s", cmd.Verb(), need, perm)
	}
	switch {
	case cmd.Spec.Reserved:
		return "/ferry " + cmd.Verb() + " is not available yet (it comes with " + cmd.Spec.Available + ")"
	case paused != nil && (cmd.Verb() == "deploy" || cmd.Verb() == "rollback" || cmd.Verb() == "optimize-dockerfile" || cmd.Verb() == "test"):
		return pausedText(paused)
	}
	return ""
}

func pausedText(p *control.Pause) string {
	s := "ferry is paused by @" + p.By
	if p.Reason != "" {
		s += ": " + p.Reason
	}
	return s + " (/ferry resume lifts it)"
}
