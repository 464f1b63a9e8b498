// Package deployagent takes a commit to an environment: it chooses the
// strategy (rollout.Choose), fixes the plan when the deploy starts, and
// runs it one step at a time as a durable job — each step recorded before
// it acts, every action idempotent — so a crash resumes the deploy from
// its last step and never loses or doubles it. One deploy per environment
// runs at a time; pauses and freeze windows are checked before every step.
//
// The agent never reads a policy file: the application hands it the
// environment (from the default branch's policy, read once per job), and
// the deploy keeps it, so nothing the deployed commit says can change where
// or what is deployed.
package deployagent

import (
	"context"
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
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// Kube is one cluster.
type Kube interface {
	Current(ctx context.Context, ns string, workloads []policy.Workload, service string) (rollout.Current, rollout.Known, error)
	Apply(ctx context.Context, ns string, s rollout.Step) error
	Status(ctx context.Context, ns, name string) (rollout.Status, error)
}

// GitHub is what the agent tells one installation's GitHub, and the one
// thing it reads there (what a deploy changes).
type GitHub interface {
	CreateDeployment(ctx context.Context, owner, repo string, d forge.Deployment) (int64, error)
	FindDeployment(ctx context.Context, owner, repo, sha, environment, key, value string) (int64, error)
	SetDeploymentStatus(ctx context.Context, owner, repo string, id int64, s forge.DeploymentStatus) error
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
	CompareChange(ctx context.Context, owner, repo, base, head string) (change.Change, error)
}

// Scheduler records a deploy and the job of its first step together: both
// or neither (created is false when the deploy exists: a retry).
type Scheduler interface {
	CreateDeploy(ctx context.Context, d deploy.Deploy, step, key, serial string) (created bool, err error)
	CreateGate(ctx context.Context, g deploy.Gate, step, key string) (created bool, err error)
}

// Deploys reads deploys.
type Deploys interface {
	GetDeploy(ctx context.Context, id string) (deploy.Deploy, error)
	Deploys(ctx context.Context, repositoryID int64, environment string) ([]deploy.Deploy, error)
}

// Progress records what a running deploy did and why it waits or ended.
type Progress interface {
	StartDeploy(ctx context.Context, id string, strategy policy.Strategy, reasons string, plan, knownGood []byte, at time.Time) error
	SetDeployGitHub(ctx context.Context, id string, githubID int64) error
	SetDeployMessage(ctx context.Context, id, msg string) error
	HoldDeploy(ctx context.Context, id string, cause deploy.HoldCause, msg string) error
	FinishDeploy(ctx context.Context, id string, status deploy.Status, cause deploy.EndCause, message string, at time.Time) error
	AskRollback(ctx context.Context, id, by string) error
}

// Steps records each step before it acts, and the analysis between checks.
type Steps interface {
	StepApplying(ctx context.Context, id string, n int, kind rollout.StepKind, note string, at time.Time) (int, error)
	DeploySteps(ctx context.Context, id string) ([]deploy.StepRecord, error)
	StepDone(ctx context.Context, id string, n int, at time.Time) error
	AnalysisState(ctx context.Context, id string) ([]byte, error)
	SetAnalysisState(ctx context.Context, id string, state []byte) error
}

// Control is what people decided: pauses, approvals, who pushed a head.
type Control interface {
	Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error)
	Approvals(ctx context.Context, repositoryID int64, number int) ([]control.Approval, error)
	Pushers(ctx context.Context, repositoryID int64, number int, head string) ([]string, error)
}

// Audit keeps the agent's decisions and what became of them.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
	RecordOutcome(ctx context.Context, decisionID, outcome, actor string, at time.Time) error
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
}

// Deps are the agent's collaborators.
type Deps struct {
	GitHub    func(installationID int64) GitHub
	CI        func(installationID int64) CI
	Clusters  func(env policy.Environment) (Kube, error)
	Scheduler func() Scheduler // late: the job queue is built with the agent's step function
	Deploys   Deploys
	Progress  Progress
	Steps     Steps
	Control   Control
	Audit     Audit
	// Gates and Reviewer answer GitHub's deployment protection rule
	// requests (nil: ferry is no protection rule).
	Gates    Gates
	Reviewer func(installationID int64) Reviewer
	// Ending, if set, is told of each deploy about to be marked ended (the
	// production-deploy pull requests follow them); it may be told twice.
	Ending func(ctx context.Context, d deploy.Deploy) error
}

// Agent deploys.
type Agent struct {
	cfg       Config
	github    func(installationID int64) GitHub
	ci        func(installationID int64) CI
	clusters  func(env policy.Environment) (Kube, error)
	scheduler func() Scheduler
	deploys   Deploys
	tracker   Progress
	stepLog   Steps
	control   Control
	audit     Audit
	gates     Gates
	reviewer  func(installationID int64) Reviewer
	followers func(ctx context.Context, d deploy.Deploy) error
	render    *render.Renderer
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
	return &Agent{cfg: cfg, github: deps.GitHub, ci: deps.CI, clusters: deps.Clusters, scheduler: deps.Scheduler,
		deploys: deps.Deploys, tracker: deps.Progress, stepLog: deps.Steps, control: deps.Control, audit: deps.Audit,
		gates: deps.Gates, reviewer: deps.Reviewer, followers: deps.Ending, render: r}
}

// Request asks for a deploy (or rollback) of a commit to an environment.
type Request struct {
	ID                           string // from what asked: a retry finds the same deploy
	InstallationID, RepositoryID int64
	Owner, Repo                  string
	DefaultBranch                string // whose required checks apply
	// Env is the environment as the default branch's policy describes it;
	// RequiredChecks that policy's required_checks.
	Env              policy.Environment
	RequiredChecks   []string
	SHA, Ref         string
	Number           int
	Actor            string
	Rollback, Hotfix bool
	Proposed         policy.Strategy // the risk route's deploy strategy
	Watch            time.Duration   // the risk route's watch after the rollout (policy's analysis.watch wins)
	NeedHuman        []string        // why the risk route wants a human to approve (none: it does not)
	// Head is the pull request head that stands for SHA, when it is not
	// SHA: a production-deploy pull request's commit of SHA's content.
	Head string
}

// ErrRolledBack: ferry will not re-deploy a commit it rolled back.
var ErrRolledBack = errors.New("rolled back before")

// rolledBack returns the deploy in which this commit was rolled back in
// the environment, or "".
func (a *Agent) rolledBack(ctx context.Context, repositoryID int64, env, sha string) (string, error) {
	all, err := a.deploys.Deploys(ctx, repositoryID, env)
	if err != nil {
		return "", err
	}
	for _, d := range all {
		if d.Kind == deploy.KindDeploy && d.SHA == sha && d.EndCause.RolledBack() {
			return d.ID, nil
		}
	}
	return "", nil
}

// Request records a deploy and its first job. It returns a *Refusal for
// what ferry will not do (the operator's rules, a missing approval, a
// forbidden strategy): an answer for the person, not a failure.
func (a *Agent) Request(ctx context.Context, r Request) (deploy.Deploy, error) {
	d, err := a.prepare(ctx, r)
	if err != nil {
		if ref, ok := AsRefusal(err); ok {
			return deploy.Deploy{}, a.recordRefusal(ctx, r, ref)
		}
		return deploy.Deploy{}, err
	}
	serial := event.EnvironmentKey(r.RepositoryID, r.Env.Name)
	if _, err := a.scheduler().CreateDeploy(ctx, d, StepName, d.ID, serial); err != nil {
		return deploy.Deploy{}, err
	}
	dec := audit.Decision{ID: "deploy-" + d.ID, At: d.CreatedAt, RepositoryID: d.RepositoryID, Repository: d.Repository,
		Subject: "env:" + d.Environment + "@" + short(d.SHA), Kind: auditKind(d.Kind), Actor: r.Actor,
		InputsDigest: audit.Digest([]any{r.SHA, d.Environment, r.Proposed, r.Hotfix}),
		Output:       fmt.Sprintf("%s %s to %s with %s", d.Kind, short(d.SHA), d.Environment, d.Strategy)}
	for _, why := range strings.Split(d.Reasons, "; ") {
		dec.Reasons = append(dec.Reasons, audit.Reason{Rule: "strategy", Summary: why})
	}
	if err := a.audit.RecordDecision(ctx, dec, r.Number); err != nil {
		return deploy.Deploy{}, err
	}
	return a.deploys.GetDeploy(ctx, d.ID)
}

func auditKind(k deploy.Kind) audit.Kind {
	if k == deploy.KindRollback {
		return audit.KindRollback
	}
	return audit.KindDeploy
}

// prepare decides everything about a deploy before it is recorded: the
// operator's rules, ferry's own rollbacks, the approval, the strategy.
func (a *Agent) prepare(ctx context.Context, r Request) (deploy.Deploy, error) {
	env := r.Env
	if err := a.allowed(ctx, r); err != nil {
		return deploy.Deploy{}, err
	}
	if !r.Rollback && r.Actor == audit.Ferry {
		// A commit ferry rolled back is not re-deployed by ferry unchanged:
		// a human decides (/ferry deploy).
		if prev, err := a.rolledBack(ctx, r.RepositoryID, env.Name, r.SHA); err != nil || prev != "" {
			if err != nil {
				return deploy.Deploy{}, err
			}
			return deploy.Deploy{}, fmt.Errorf("%w: %s was rolled back in %s (deploy %s); a human redeploys it",
				ErrRolledBack, short(r.SHA), env.Name, prev)
		}
	}
	kind, choice := deploy.KindDeploy, rollout.Choice{Strategy: policy.Rollback, Reasons: []string{"requested by @" + r.Actor}}
	if r.Rollback {
		kind = deploy.KindRollback
	} else if c, err := rollout.Choose(r.Proposed, env, r.Hotfix); err != nil {
		return deploy.Deploy{}, refuse(err.Error(), err.Error())
	} else {
		choice = c
	}
	if an := env.Analysis; an != nil && an.Watch == 0 && r.Watch > 0 {
		// Longer for riskier changes: the route decides when policy does not.
		watched := *an
		watched.Watch = r.Watch
		env.Analysis = &watched
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		return deploy.Deploy{}, fmt.Errorf("encode environment: %w", err)
	}
	d := deploy.Deploy{ID: r.ID, RepositoryID: r.RepositoryID, Repository: r.Owner + "/" + r.Repo, InstallationID: r.InstallationID,
		Environment: env.Name, Kind: kind, SHA: r.SHA, Ref: r.Ref, Number: r.Number, Actor: r.Actor, Strategy: choice.Strategy,
		Reasons: strings.Join(choice.Reasons, "; "), CreatedAt: a.cfg.Now(), Env: envJSON}
	if need := needsHuman(r, env); len(need) > 0 {
		ap := approval{Reasons: need, Branch: r.DefaultBranch, RequiredChecks: r.RequiredChecks, Head: r.Head}
		if d.Approval, err = json.Marshal(ap); err != nil {
			return deploy.Deploy{}, fmt.Errorf("encode approval: %w", err)
		}
	}
	// Checked now, and again when the deploy starts.
	return d, a.authorize(ctx, d)
}

// recordRefusal writes the refusal to the audit trail (with the operator's
// details) and returns it for the person.
func (a *Agent) recordRefusal(ctx context.Context, r Request, ref *Refusal) error {
	a.cfg.Logger.InfoContext(ctx, "deploy refused", "env", r.Env.Name, "sha", r.SHA, "why", ref.Detail)
	dec := audit.Decision{ID: "deploy-" + r.ID, At: a.cfg.Now(), RepositoryID: r.RepositoryID, Repository: r.Owner + "/" + r.Repo,
		Subject: "env:" + r.Env.Name + "@" + short(r.SHA), Kind: audit.KindDeploy, Actor: r.Actor,
		InputsDigest: audit.Digest([]any{r.SHA, r.Env.Name, r.Rollback}), Output: "refused: " + ref.Public,
		Reasons: []audit.Reason{{Rule: "refused", Summary: ref.Detail, Private: true}}}
	if err := a.audit.RecordDecision(ctx, dec, r.Number); err != nil {
		return err
	}
	return event.Permanent(ref)
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

func decodePlan(d deploy.Deploy) (plan, error) {
	var p plan
	if err := json.Unmarshal(d.Plan, &p); err != nil {
		return p, fmt.Errorf("plan of deploy %s: %w", d.ID, err)
	}
	return p, nil
}

// AutoDeploy deploys a commit of the default branch to every environment
// of p that deploys automatically — once every required check of the
// commit has passed (not ferry's own). idPrefix makes the deploys' ids: the
// same commit asks once. waiting says what CI has yet to finish.
func (a *Agent) AutoDeploy(ctx context.Context, r Request, p policy.Policy, idPrefix string) (out []deploy.Deploy, waiting string, err error) {
	var envs []policy.Environment
	for _, env := range p.Environments {
		if env.AutoDeploy && env.Deploys() {
			envs = append(envs, env)
		}
	}
	if len(envs) == 0 {
		return nil, "", nil
	}
	checks, err := a.checks(ctx, r.InstallationID, r.Owner, r.Repo, r.DefaultBranch, r.SHA, p.RequiredChecks)
	if err != nil {
		return nil, "", err
	}
	if !checks.Green() {
		return nil, checks.Summary(), nil // the next check to finish asks again
	}
	slices.SortFunc(envs, func(x, y policy.Environment) int { return strings.Compare(x.Name, y.Name) })
	for _, env := range envs {
		req := r
		req.ID, req.Env, req.RequiredChecks = idPrefix+"-"+env.Name, env, p.RequiredChecks
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
