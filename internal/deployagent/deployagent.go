// Package deployagent takes a commit to an environment: it chooses the
// strategy (rollout.Choose), fixes the plan when the deploy starts, and
// runs it one step at a time as a durable job — each step recorded before
// it acts, every action idempotent — so a crash resumes the deploy from
// its last step and never loses or doubles it. One deploy per environment
// runs at a time; pauses and freeze windows are checked before every step.
package deployagent

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/rollout"
	"github.com/ferry-ci/ferry/internal/store"
)

// Kube is one cluster.
type Kube interface {
	Current(ctx context.Context, ns string, workloads []policy.Workload, service string) (rollout.Current, rollout.Known, error)
	Apply(ctx context.Context, ns string, s rollout.Step) error
	Status(ctx context.Context, ns, name string) (rollout.Status, error)
}

// GitHub is what the agent needs from one installation's client to deploy
// and report.
type GitHub interface {
	FileContent(ctx context.Context, owner, repo, path, ref string) ([]byte, error)
	CreateDeployment(ctx context.Context, owner, repo string, d github.Deployment) (int64, error)
	SetDeploymentStatus(ctx context.Context, owner, repo string, id int64, s github.DeploymentStatus) error
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
	FindDeployment(ctx context.Context, owner, repo, sha, environment, key, value string) (int64, error)
	CompareChange(ctx context.Context, owner, repo, base, head string) (change.Change, error)
}

// Store keeps deploys, pauses and the audit trail.
type Store interface {
	GateStore
	CreateDeploy(ctx context.Context, d store.Deploy, enqueue func(tx *sql.Tx) error) (bool, error)
	GetDeploy(ctx context.Context, id string) (store.Deploy, error)
	Deploys(ctx context.Context, repositoryID int64, environment string) ([]store.Deploy, error)
	StartDeploy(ctx context.Context, id, strategy, reasons string, plan, knownGood []byte, at time.Time) error
	SetDeployGitHub(ctx context.Context, id string, githubID int64) error
	SetDeployMessage(ctx context.Context, id, msg string) error
	HoldDeploy(ctx context.Context, id string, cause store.HoldCause, msg string) error
	FinishDeploy(ctx context.Context, id, status string, cause store.EndCause, message string, at time.Time) error
	AnalysisState(ctx context.Context, id string) ([]byte, error)
	SetAnalysisState(ctx context.Context, id string, state []byte) error
	AskRollback(ctx context.Context, id, by string) error
	RecordOutcome(ctx context.Context, decisionID, outcome, actor string, at time.Time) error
	StepApplying(ctx context.Context, id string, n int, kind, note string, at time.Time) (int, error)
	DeploySteps(ctx context.Context, id string) ([]store.DeployStep, error)
	StepDone(ctx context.Context, id string, n int, at time.Time) error
	Paused(ctx context.Context, repositoryID int64, environment string) (*store.Pause, error)
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Enqueuer inserts a step job in a transaction.
type Enqueuer interface {
	EnqueueStep(ctx context.Context, tx *sql.Tx, name, key, serial string) error
}

// StepName is the agent's step function's name in the job queue.
const StepName = "deploy"

// Config configures the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Poll is how often a waiting step looks again (default 500ms).
	Poll time.Duration
	// Allow limits which repositories deploy where (none: nothing deploys).
	Allow Allow
	// Metrics is ferry's Prometheus; nil holds any analysis for a human.
	Metrics Metrics
	// AppID is ferry's own GitHub App: its checks never count as CI.
	AppID int64
	// Policy is the server operator's say over what a policy may ask.
	Policy policy.Options
}

// Deps are the agent's collaborators.
type Deps struct {
	GitHub   func(installationID int64) GitHub
	CI       func(installationID int64) CI
	Clusters func(env policy.Environment) (Kube, error)
	Store    Store
	Queue    func() Enqueuer // late: the queue is built with the agent's step function
}

// Agent deploys.
type Agent struct {
	cfg      Config
	github   func(installationID int64) GitHub
	ci       func(installationID int64) CI
	clusters func(env policy.Environment) (Kube, error)
	store    Store
	queue    func() Enqueuer
	render   *render.Renderer
}

// New returns the agent.
func New(cfg Config, deps Deps) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll == 0 {
		cfg.Poll = 500 * time.Millisecond
	}
	r, err := render.New()
	if err != nil {
		panic(err) // the embedded templates are part of the build
	}
	return &Agent{cfg: cfg, github: deps.GitHub, ci: deps.CI, clusters: deps.Clusters, store: deps.Store, queue: deps.Queue, render: r}
}

// Request asks for a deploy (or rollback) of a commit to an environment.
type Request struct {
	ID                           string // from what asked: a retry finds the same deploy
	InstallationID, RepositoryID int64
	Owner, Repo                  string
	DefaultBranch                string // where the policy is read
	Environment                  string
	SHA, Ref                     string
	Number                       int
	Actor                        string
	Rollback, Hotfix             bool
	Proposed                     string        // the risk route's deploy strategy
	Watch                        time.Duration // the risk route's watch after the rollout (policy's analysis.watch wins)
	NeedHuman                    []string      // why the risk route wants a human to approve (none: it does not)
}

// ErrRolledBack: ferry will not re-deploy a commit it rolled back.
var ErrRolledBack = errors.New("rolled back before")

// rolledBack returns the deploy in which this commit was rolled back in
// the environment, or "".
func (a *Agent) rolledBack(ctx context.Context, repositoryID int64, env, sha string) (string, error) {
	all, err := a.store.Deploys(ctx, repositoryID, env)
	if err != nil {
		return "", err
	}
	for _, d := range all {
		if d.Kind == "deploy" && d.SHA == sha && d.EndCause.RolledBack() {
			return d.ID, nil
		}
	}
	return "", nil
}

// ErrNoTarget is an environment the policy does not configure.
var ErrNoTarget = errors.New("no deploy target configured")

// Request records a deploy and its first job. It returns ErrNoTarget
// (wrapped) for an unknown environment and a *Refusal for what ferry will
// not do (the operator's rules, a missing approval, a forbidden strategy);
// those are answers for the person, not failures.
func (a *Agent) Request(ctx context.Context, r Request) (store.Deploy, error) {
	env, err := a.environment(ctx, r.InstallationID, r.Owner, r.Repo, r.DefaultBranch, r.Environment)
	if err != nil {
		return store.Deploy{}, err
	}
	d, err := a.prepare(ctx, r, env)
	if err != nil {
		if ref, ok := AsRefusal(err); ok {
			return store.Deploy{}, a.recordRefusal(ctx, r, env, ref)
		}
		return store.Deploy{}, err
	}
	serial := event.EnvironmentKey(r.RepositoryID, env.Name)
	if _, err := a.store.CreateDeploy(ctx, d, func(tx *sql.Tx) error {
		return a.queue().EnqueueStep(ctx, tx, StepName, d.ID, serial)
	}); err != nil {
		return store.Deploy{}, err
	}
	dec := audit.Decision{ID: "deploy-" + d.ID, At: d.CreatedAt, RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + env.Name + "@" + short(d.SHA), Kind: d.Kind, Actor: r.Actor, InputsDigest: audit.Digest([]any{r.SHA, env.Name, r.Proposed, r.Hotfix}),
		Output: fmt.Sprintf("%s %s to %s with %s", d.Kind, short(d.SHA), env.Name, d.Strategy)}
	for _, why := range strings.Split(d.Reasons, "; ") {
		dec.Reasons = append(dec.Reasons, audit.Reason{Rule: "strategy", Summary: why})
	}
	if err := a.store.RecordDecision(ctx, dec, r.Number); err != nil {
		return store.Deploy{}, err
	}
	return a.store.GetDeploy(ctx, d.ID)
}

// prepare decides everything about a deploy before it is recorded: the
// operator's rules, ferry's own rollbacks, the approval, the strategy.
func (a *Agent) prepare(ctx context.Context, r Request, env policy.Environment) (store.Deploy, error) {
	if err := a.allowed(ctx, r, env); err != nil {
		return store.Deploy{}, err
	}
	if !r.Rollback && r.Actor == audit.Ferry {
		// A commit ferry rolled back is not re-deployed by ferry unchanged:
		// a human decides (/ferry deploy).
		if prev, err := a.rolledBack(ctx, r.RepositoryID, env.Name, r.SHA); err != nil || prev != "" {
			if err != nil {
				return store.Deploy{}, err
			}
			return store.Deploy{}, fmt.Errorf("%w: %s was rolled back in %s (deploy %s); a human redeploys it",
				ErrRolledBack, short(r.SHA), env.Name, prev)
		}
	}
	kind, choice := "deploy", rollout.Choice{Strategy: "rollback", Reasons: []string{"requested by @" + r.Actor}}
	if r.Rollback {
		kind = "rollback"
	} else if c, err := rollout.Choose(r.Proposed, env, r.Hotfix); err != nil {
		return store.Deploy{}, refuse(err.Error(), err.Error())
	} else {
		choice = c
	}
	if an := env.Analysis; an != nil && an.Watch == 0 && r.Watch > 0 {
		// Longer for riskier changes: the route decides when policy does not.
		watched := *an
		watched.Watch = r.Watch
		env.Analysis = &watched
	}
	// The environment is fixed now, from the default branch: nothing the
	// deployed commit says can change where or what is deployed.
	envJSON, err := json.Marshal(env)
	if err != nil {
		return store.Deploy{}, fmt.Errorf("encode environment: %w", err)
	}
	d := store.Deploy{ID: r.ID, RepositoryID: r.RepositoryID, Repository: r.Owner + "/" + r.Repo, InstallationID: r.InstallationID,
		Environment: env.Name, Kind: kind, SHA: r.SHA, Ref: r.Ref, Number: r.Number, Actor: r.Actor, Strategy: choice.Strategy,
		Reasons: strings.Join(choice.Reasons, "; "), CreatedAt: a.cfg.Now(), Env: envJSON}
	if need := needsHuman(r, env); len(need) > 0 {
		if d.Approval, err = json.Marshal(approval{Reasons: need, Branch: r.DefaultBranch}); err != nil {
			return store.Deploy{}, fmt.Errorf("encode approval: %w", err)
		}
	}
	// Checked now, and again when the deploy starts.
	return d, a.authorize(ctx, d)
}

// recordRefusal writes the refusal to the audit trail (with the operator's
// details) and returns it for the person.
func (a *Agent) recordRefusal(ctx context.Context, r Request, env policy.Environment, ref *Refusal) error {
	a.cfg.Logger.InfoContext(ctx, "deploy refused", "env", env.Name, "sha", r.SHA, "why", ref.Detail)
	dec := audit.Decision{ID: "deploy-" + r.ID, At: a.cfg.Now(), RepositoryID: r.RepositoryID, Repository: r.Owner + "/" + r.Repo,
		Subject: "env:" + env.Name + "@" + short(r.SHA), Kind: "deploy", Actor: r.Actor,
		InputsDigest: audit.Digest([]any{r.SHA, env.Name, r.Rollback}), Output: "refused: " + ref.Public,
		Reasons: []audit.Reason{{Rule: "refused", Summary: ref.Detail, Private: true}}}
	if err := a.store.RecordDecision(ctx, dec, r.Number); err != nil {
		return err
	}
	return event.Permanent(ref)
}

// policy reads the policy on a branch of the repository (the default
// branch: what a pull request cannot change). Absent: the defaults.
func (a *Agent) policy(ctx context.Context, installation int64, owner, repo, branch string) (policy.Policy, error) {
	data, err := a.github(installation).FileContent(ctx, owner, repo, policy.Path, branch)
	if github.Classify(err) == github.KindNotFound {
		return policy.Default(), nil
	}
	if err != nil {
		return policy.Policy{}, fmt.Errorf("read policy: %w", err)
	}
	p, err := policy.ParseWith(data, a.cfg.Policy)
	if err != nil {
		return policy.Policy{}, refuse(policy.Path+" on the default branch is not valid: ferry deploys nothing until it is fixed",
			fmt.Sprintf("%s on %s: %v", policy.Path, branch, err))
	}
	return p, nil
}

// environment reads the policy on the default branch and finds env.
func (a *Agent) environment(ctx context.Context, installation int64, owner, repo, branch, name string) (policy.Environment, error) {
	p, err := a.policy(ctx, installation, owner, repo, branch)
	if err != nil {
		return policy.Environment{}, err
	}
	env, ok := p.Environments[name]
	if !ok {
		return policy.Environment{}, fmt.Errorf("%w for %s", ErrNoTarget, name)
	}
	return env, nil
}

func short(sha string) string { return sha[:min(8, len(sha))] }

// imageFor renders the environment's image template for a commit.
func imageFor(env policy.Environment, sha string) (string, error) {
	t, err := template.New("image").Option("missingkey=error").Parse(env.Image)
	if err != nil {
		return "", fmt.Errorf("image template of %s: %w", env.Name, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"SHA": sha, "ShortSHA": short(sha)}); err != nil {
		return "", fmt.Errorf("image template of %s: %w", env.Name, err)
	}
	return b.String(), nil
}

// plan is what a deploy fixes when it starts.
type plan struct {
	Env   policy.Environment `json:"env"`
	Steps []rollout.Step     `json:"steps"`
}

func decodePlan(d store.Deploy) (plan, error) {
	var p plan
	if err := json.Unmarshal(d.Plan, &p); err != nil {
		return p, fmt.Errorf("plan of deploy %s: %w", d.ID, err)
	}
	return p, nil
}

// AutoDeploy deploys a commit of the default branch to every environment
// whose policy deploys automatically — once every required check of the
// commit has passed (not ferry's own). idPrefix makes the deploys' ids: the
// same commit asks once. waiting says what CI has yet to finish.
func (a *Agent) AutoDeploy(ctx context.Context, r Request, idPrefix string) (out []store.Deploy, waiting string, err error) {
	p, err := a.policy(ctx, r.InstallationID, r.Owner, r.Repo, r.DefaultBranch)
	if err != nil {
		if ref, ok := AsRefusal(err); ok {
			a.cfg.Logger.WarnContext(ctx, "not deploying automatically", "why", ref.Detail)
			return nil, "", nil
		}
		return nil, "", err
	}
	var envs []policy.Environment
	for _, env := range p.Environments {
		if env.AutoDeploy {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return nil, "", nil
	}
	checks, err := a.checks(ctx, r.InstallationID, r.Owner, r.Repo, r.DefaultBranch, r.SHA)
	if err != nil {
		return nil, "", err
	}
	if !checks.Green() {
		return nil, checks.Summary(), nil // the next check to finish asks again
	}
	slices.SortFunc(envs, func(x, y policy.Environment) int { return strings.Compare(x.Name, y.Name) })
	for _, env := range envs {
		req := r
		req.ID, req.Environment = idPrefix+"-"+env.Name, env.Name
		d, err := a.Request(ctx, req)
		if _, refused := AsRefusal(err); refused || errors.Is(err, ErrRolledBack) {
			a.cfg.Logger.InfoContext(ctx, "not deploying automatically", "env", env.Name, "why", err)
			continue
		}
		if err != nil {
			return out, "", err
		}
		out = append(out, d)
	}
	return out, "", nil
}
