// Package releaseagent is ferry's release agent: it keeps one standing
// release pull request per component of a repository, rebuilt from the
// default branch's history as changes land (release notes, the next
// version written into the version files, the new CHANGELOG.md section),
// and when a person merges it, tags the merge commit and publishes the
// GitHub Release with the same notes. What the notes say is decided by the
// pure package release; this package reads history and GitHub, records
// each step before it acts, and writes.
package releaseagent

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/releasing"
	"github.com/ferry-ci/ferry/internal/render"
)

// Reader is what the agent reads from one installation's GitHub.
type Reader interface {
	GitCredentials(ctx context.Context) (user, password string, err error)
	PullRequest(ctx context.Context, owner, repo string, number int) (forge.PullRequest, error)
	CommitPullRequests(ctx context.Context, owner, repo, sha string) ([]forge.PullRequest, error)
	PullRequestChange(ctx context.Context, owner, repo string, number int, base, head string) (change.Change, error)
}

// Writer is what the agent writes there: its pull request, tags, releases,
// and a word to people when it stops.
type Writer interface {
	Propose(ctx context.Context, owner, repo string, p forge.Proposal) (number int, created bool, err error)
	CreateTag(ctx context.Context, owner, repo, tag, sha string) error
	FindRelease(ctx context.Context, owner, repo, tag string) (int64, error)
	CreateRelease(ctx context.Context, owner, repo string, r forge.Release) (int64, error)
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
}

// GitHub is one installation's GitHub, both sides.
type GitHub interface {
	Reader
	Writer
}

// History reads a branch's whole history, with its tags, from a cache.
type History interface {
	History(ctx context.Context, key string, r git.Remote, branch string, read func(*git.Repo) error) error
}

// Releases keeps the release pull requests and how far each has come.
type Releases interface {
	SaveReleasePR(ctx context.Context, r releasing.PR) error
	ReleasePR(ctx context.Context, repositoryID int64, component string, number int) (releasing.PR, error)
	LatestReleasePR(ctx context.Context, repositoryID int64, component string) (releasing.PR, error)
	AdvanceReleasePR(ctx context.Context, repositoryID int64, component string, number int, to releasing.State,
		tagSHA string, releaseID int64, at time.Time) error
}

// Signals are what ferry knows about each change beyond git: its risk
// assessment and where it was deployed.
type Signals interface {
	LatestAssessment(ctx context.Context, repositoryID int64, number int, except string) (assessment.Record, error)
	Deploys(ctx context.Context, repositoryID int64, environment string) ([]deploy.Deploy, error)
}

// Control says whether a repository is paused.
type Control interface {
	Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error)
}

// Audit keeps the agent's decisions.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Config configures the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
	// MaxLookups bounds the GitHub reads spent on one update's commits:
	// "which pull request" for commits that do not say, and each pull
	// request's title, labels and author (default 300). Past it, entries
	// fall back to what the commits say.
	MaxLookups int
}

// Deps are the agent's collaborators.
type Deps struct {
	GitHub   func(installationID int64) GitHub
	History  History
	Releases Releases
	Signals  Signals
	Control  Control
	Audit    Audit
	// Model picks highlights atop each release pull request (default
	// llm.Disabled: none).
	Model Model
}

// Agent keeps release pull requests and publishes releases.
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
	if cfg.MaxLookups == 0 {
		cfg.MaxLookups = 300
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

// Repo is the repository a release is about.
type Repo struct {
	InstallationID, ID int64
	Owner, Name        string
	DefaultBranch      string
	CloneURL           string
	HTMLURL            string // for the changelog's compare links
	// Head is the default branch's tip the update is for ("" until known).
	Head string
	// Cause is the delivery or command that asked: decisions are named
	// after it, so a retry records nothing twice.
	Cause string
}

func (r Repo) fullName() string { return r.Owner + "/" + r.Name }
