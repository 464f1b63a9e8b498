// Package promoteagent keeps, for each environment whose policy says
// promote: pull_request, one open pull request that is the next deploy
// there: ferry's branch at the candidate commit, into the branch that
// records what the environment runs, its body everything going out with
// its risk. Merging it (or /ferry deploy on it) by someone allowed who
// wrote none of it is the human approval, and ships it with the deploy
// agent; a deploy that fails moves the branch back to what runs, with a
// recorded commit, and the next candidate opens a fresh pull request. What
// goes out and how is decided by the pure package promotion; this package
// reads history and GitHub, records each state before it acts, and writes.
package promoteagent

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/riskagent"
)

// GitHub is what the agent reads and writes in one installation.
type GitHub interface {
	GitCredentials(ctx context.Context) (user, password string, err error)
	PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error)
	CommitPullRequests(ctx context.Context, owner, repo, sha string) ([]forge.PullRequest, error)
	Promote(ctx context.Context, owner, repo string, p forge.Promotion) (number int, head string, created bool, err error)
	RestoreBranch(ctx context.Context, owner, repo, branch, to, message string) (sha string, moved bool, err error)
	ClosePull(ctx context.Context, owner, repo string, number int) error
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
}

// History reads a branch's history from a cache.
type History interface {
	History(ctx context.Context, key string, r git.Remote, branch string, read func(*git.Repo) error) error
}

// Promotions keeps the production-deploy pull requests.
type Promotions interface {
	SavePromotion(ctx context.Context, p promotion.PR) error
	Promotion(ctx context.Context, repositoryID int64, number int) (promotion.PR, error)
	LatestPromotion(ctx context.Context, repositoryID int64, environment string) (promotion.PR, error)
	PromotionOfDeploy(ctx context.Context, repositoryID int64, deployID string) (promotion.PR, error)
	AdvancePromotion(ctx context.Context, repositoryID int64, number int, from []promotion.State, to promotion.State,
		mergedBy, deployID string, at time.Time) (bool, error)
}

// Deploys reads deploys.
type Deploys interface {
	GetDeploy(ctx context.Context, id string) (deploy.Deploy, error)
	Deploys(ctx context.Context, repositoryID int64, environment string) ([]deploy.Deploy, error)
}

// Deployer is the deploy agent.
type Deployer interface {
	Request(ctx context.Context, r deployagent.Request) (deploy.Deploy, error)
	ClusterCommit(ctx context.Context, env policy.Environment) (string, error)
	Green(ctx context.Context, installationID int64, owner, repo, branch, sha string, policyChecks []string) (bool, string, error)
}

// Risks is what ferry assessed of each change.
type Risks interface {
	RiskOf(ctx context.Context, repositoryID int64, number int, sha string) (riskagent.ChangeRisk, error)
}

// Control is what people decided: approvals, pauses, and who counts as
// having pushed a pull request's head.
type Control interface {
	Approve(ctx context.Context, repositoryID int64, number int, a control.Approval, d audit.Decision) error
	Approvals(ctx context.Context, repositoryID int64, number int) ([]control.Approval, error)
	Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error)
	RecordPush(ctx context.Context, repositoryID int64, number int, head, login string, at time.Time) error
}

// Audit keeps the agent's decisions.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Config configures the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
	// MaxChanges bounds how far back the default branch's history is read
	// for what the environment runs (default 3000 commits); the body lists
	// 100 changes and says how many more go out.
	MaxChanges int
	// MaxLookups bounds the GitHub reads for the changes' pull requests
	// (default 200).
	MaxLookups int
}

// Deps are the agent's collaborators.
type Deps struct {
	GitHub     func(installationID int64) GitHub
	History    History
	Promotions Promotions
	Deploys    Deploys
	Deployer   Deployer
	Risks      Risks
	Control    Control
	Audit      Audit
	// Model sums up each production-deploy pull request in a few
	// sentences atop its body (default llm.Disabled: none).
	Model Model
}

// Agent keeps production-deploy pull requests.
type Agent struct {
	cfg    Config
	deps   Deps
	render *render.Renderer
}

// New returns the agent.
func New(cfg Config, deps Deps) (*Agent, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxChanges == 0 {
		cfg.MaxChanges = 3000
	}
	if cfg.MaxLookups == 0 {
		cfg.MaxLookups = 200
	}
	if deps.Model == nil {
		deps.Model = llm.Disabled{}
	}
	r, err := render.New()
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, deps: deps, render: r}, nil
}

// Repo is the repository a production-deploy pull request is about.
type Repo struct {
	InstallationID, ID int64
	Owner, Name        string
	DefaultBranch      string
	CloneURL, HTMLURL  string
	// Cause is the delivery, command or deploy that asked: decisions are
	// named after it, so a retry records nothing twice.
	Cause string
}

func (r Repo) fullName() string { return r.Owner + "/" + r.Name }

// Branch is ferry's branch for an environment's production-deploy pull
// request.
func Branch(env string) string { return "ferry/promote/" + env }

// commentKey keys the agent's comment on a production-deploy pull request.
func commentKey(env string) string { return "promote-" + env }

func (a *Agent) record(ctx context.Context, r Repo, number int, id, output string, reasons []audit.Reason, inputs ...any) error {
	d := audit.Decision{ID: "promote-" + strconv.FormatInt(r.ID, 10) + "-" + id, At: a.cfg.Now(), RepositoryID: r.ID,
		Repository: r.fullName(), Subject: "promote", Kind: audit.KindPromote, Actor: audit.Ferry,
		InputsDigest: audit.Digest(inputs), Output: output, Reasons: reasons}
	if number > 0 {
		d.Subject = "#" + strconv.Itoa(number)
	}
	return a.deps.Audit.RecordDecision(ctx, d, number)
}

func short(sha string) string { return sha[:min(8, len(sha))] }

// GetDeploy reads a deploy (for the step that follows deploys ending).
func (a *Agent) GetDeploy(ctx context.Context, id string) (deploy.Deploy, error) {
	return a.deps.Deploys.GetDeploy(ctx, id)
}
