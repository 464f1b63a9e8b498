// Package riskagent is ferry's risk agent: for a pull request or a push to
// the default branch it reads the change, scores its risk under the policy
// the application read (at the base: a change cannot loosen its own
// policy), routes it, stores the assessment, and then publishes it — the
// check run ferry/risk, and on pull requests one sticky comment and a risk
// label. The stored row comes first and carries the ids of what was
// published, so a retried job updates rather than duplicates. The route it
// stores is what the deploy agent later follows.
package riskagent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferry-ci/ferry/internal/assessment"
	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/llm"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
	"github.com/ferry-ci/ferry/internal/risk"
	"github.com/ferry-ci/ferry/internal/route"
)

// Changes reads what a change is from one installation's GitHub.
type Changes interface {
	PullRequestChange(ctx context.Context, owner, repo string, number int, base, head string) (change.Change, error)
	CompareChange(ctx context.Context, owner, repo, base, head string) (change.Change, error)
	GitCredentials(ctx context.Context) (user, password string, err error)
}

// Publisher shows an assessment on one installation's GitHub.
type Publisher interface {
	UpsertComment(ctx context.Context, owner, repo string, number int, key, body string) (int64, error)
	CreateCheckRun(ctx context.Context, owner, repo string, r forge.CheckRun) (int64, error)
	UpdateCheckRun(ctx context.Context, owner, repo string, id int64, r forge.CheckRun) error
	FindCheckRun(ctx context.Context, owner, repo, ref, name, externalID string) (int64, error)
	AddLabels(ctx context.Context, owner, repo string, number int, labels ...string) error
	RemoveLabel(ctx context.Context, owner, repo string, number int, label string) error
}

// Git reads a whole change with git, for pull requests larger than the
// API lists (3,000 files), within limits.
type Git interface {
	PullRequestChange(ctx context.Context, key string, pr git.PullRequest, lim git.Limits) (change.Change, error)
	PullRequestTree(ctx context.Context, key string, pr git.PullRequest, read func(head, base *git.Tree, changed []string) error) error
}

// Assessments keeps assessments.
type Assessments interface {
	GetAssessment(ctx context.Context, id string) (assessment.Record, error)
	SaveAssessment(ctx context.Context, a assessment.Record) (assessment.Record, error)
	LatestAssessment(ctx context.Context, repositoryID int64, number int, except string) (assessment.Record, error)
	AssessmentOf(ctx context.Context, repositoryID int64, number int, head string) (assessment.Record, error)
	WaitingAssessments(ctx context.Context, repositoryID int64) ([]assessment.Record, error)
}

// Publications records what was published for an assessment, intent first.
type Publications interface {
	CheckRunStarting(ctx context.Context, id string) error
	SetCheckRun(ctx context.Context, id string, checkRunID int64) error
	PublishAssessment(ctx context.Context, id string, commentID int64, at time.Time) error
}

// History is what pushes to the default branch taught.
type History interface {
	RecordPathEvents(ctx context.Context, repositoryID int64, events []assessment.PathEvent) error
	History(ctx context.Context, repositoryID int64, paths []string, since time.Time) (risk.History, error)
}

// Control is what people decided about a pull request.
type Control interface {
	Paused(ctx context.Context, repositoryID int64, environment string) (*control.Pause, error)
	Approvals(ctx context.Context, repositoryID int64, number int) ([]control.Approval, error)
}

// Audit keeps the agent's decisions.
type Audit interface {
	RecordDecision(ctx context.Context, d audit.Decision, number int) error
}

// Names ferry publishes under.
const (
	CheckName  = "ferry/risk"
	CommentKey = "risk"
	// LabelPrefix + level is the label a pull request carries.
	LabelPrefix = "risk: "
)

// Config configures the agent.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
	// HistoryWindow is how far back incidents count (default a year; they
	// decay with a 90-day half-life anyway).
	HistoryWindow time.Duration
	// LearnReserve is the time a job keeps back when learning history: no
	// new chunk starts closer to its deadline (default 90 s).
	LearnReserve time.Duration
}

// Deps are the agent's collaborators.
type Deps struct {
	Changes   func(installationID int64) Changes
	Publisher func(installationID int64) Publisher
	// Git, when set, reads pull requests the API truncates; without it
	// they are assessed on the files listed and marked partial.
	Git          Git
	Assessments  Assessments
	Publications Publications
	History      History
	Control      Control
	Audit        Audit
	// Models and Histories, when set, learn each repository's risk from
	// its own history; without them, the rules alone.
	Models    Models
	Histories Histories
	// Model gives medium and high risk pull requests a second opinion
	// (nil: llm.Disabled, the rules alone).
	Model Model
}

// Agent assesses and publishes.
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
	if cfg.HistoryWindow == 0 {
		cfg.HistoryWindow = 365 * 24 * time.Hour
	}
	if cfg.LearnReserve == 0 {
		cfg.LearnReserve = 90 * time.Second
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

// Subject is what is assessed: a pull request (Number > 0) or a push.
type Subject struct {
	ID               string // the delivery or command asking; one assessment each
	InstallationID   int64
	RepositoryID     int64
	Owner, Repo      string
	Number           int
	BaseRef          string // the base branch (pull request) or the pushed branch
	BaseSHA, HeadSHA string
	EventAt          time.Time // when GitHub says the subject last changed
	Labels           []string  // the pull request's labels when the event was sent
	CloneURL         string    // the repository over HTTPS, for git
	Title            string    // the pull request's title (what the risk model reads for purpose)
}

func (s Subject) fullName() string { return s.Owner + "/" + s.Repo }

// record is the stored result: everything publishing needs, so a retry
// publishes exactly what was decided the first time.
type record struct {
	Subject      Subject          `json:"subject"`
	Assessment   *risk.Assessment `json:"assessment,omitempty"`
	Route        *route.Plan      `json:"route,omitempty"`
	PolicySource string           `json:"policy_source"`
	Files        int              `json:"files"`
	Problems     []policy.Problem `json:"problems,omitempty"`
	Previous     *render.Previous `json:"previous,omitempty"`
	Tests        *TestPlan        `json:"tests,omitempty"` // what CI should run (Go repositories read with git)
	// Dockerfiles: findings on the Dockerfile lines a pull request touched.
	Dockerfiles []render.DockerfileNote `json:"dockerfiles,omitempty"`
}

// recordOf starts the record of an assessment under pol: an invalid
// policy is kept as its problems, and nothing is assessed.
func recordOf(pol policy.Loaded) record {
	return record{PolicySource: pol.Source(), Problems: pol.Problems}
}

// assess scores a change and fills the record.
func (o *Agent) assess(ctx context.Context, s Subject, ch change.Change, p policy.Policy, kind risk.Kind, rec *record) error {
	paths := make([]string, len(ch.Files))
	for i, f := range ch.Files {
		paths[i] = f.Path
	}
	now := o.cfg.Now()
	hist, err := o.deps.History.History(ctx, s.RepositoryID, paths, now.Add(-o.cfg.HistoryWindow))
	if err != nil {
		return err
	}
	a := o.withLearned(ctx, s, ch, risk.Assess(risk.Input{Change: ch, History: hist, Policy: p, Now: now, Kind: kind}), p)
	if kind == risk.PullRequest {
		if a, err = o.secondOpinion(ctx, s, ch, p, a); err != nil {
			return err
		}
	}
	plan := route.Make(a, ch, p)
	rec.Assessment, rec.Route, rec.Files = &a, &plan, len(ch.Files)
	return nil
}

// save stores the assessment row (or finds the one an earlier attempt
// stored) before anything is published.
func (o *Agent) save(ctx context.Context, s Subject, kind assessment.Kind, rec record) (assessment.Record, record, error) {
	row := assessment.Record{ID: s.ID, RepositoryID: s.RepositoryID, Repository: s.fullName(), Number: s.Number, Kind: kind,
		BaseSHA: s.BaseSHA, HeadSHA: s.HeadSHA, Level: assessment.LevelInvalidPolicy, PolicySource: rec.PolicySource,
		EventAt: s.EventAt, CreatedAt: o.cfg.Now()}
	if a := rec.Assessment; a != nil {
		row.Level, row.Score = a.Level, a.Score
		for _, r := range a.Reasons {
			row.Rules = append(row.Rules, r.Rule)
		}
	}
	var err error
	rec.Subject = s
	if row.Result, err = json.Marshal(rec); err != nil {
		return assessment.Record{}, record{}, fmt.Errorf("encode assessment: %w", err)
	}
	stored, err := o.deps.Assessments.SaveAssessment(ctx, row)
	if err != nil {
		return assessment.Record{}, record{}, err
	}
	return stored, rec, decode(stored, &rec)
}

// decision is the audit record of an assessment and its route.
func decision(row assessment.Record, rec record) audit.Decision {
	subject := audit.PullRequestSubject(row.Number, row.HeadSHA)
	if row.Number == 0 {
		subject = audit.PushSubject(row.HeadSHA)
	}
	d := audit.Decision{ID: "assess-" + row.ID, At: row.CreatedAt, RepositoryID: row.RepositoryID, Repository: row.Repository,
		Subject: subject, Kind: audit.KindAssessment, Actor: audit.Ferry,
		InputsDigest: audit.Digest([]any{row.BaseSHA, row.HeadSHA, rec.PolicySource, rec.Files})}
	if rec.Assessment == nil {
		d.Output = "not assessed: " + policy.Path + " is invalid"
		for _, p := range rec.Problems {
			d.Reasons = append(d.Reasons, audit.Reason{Rule: "invalid-policy", Summary: p.String()})
		}
		return d
	}
	a, plan := rec.Assessment, rec.Route
	d.Output = fmt.Sprintf("%s %d/100 → tests %s, build %s, deploy %s", a.Level, a.Score, plan.Tests, plan.Build, plan.Deploy)
	if plan.Approval {
		d.Output += ", human approval needed"
	}
	for _, r := range a.Reasons {
		ar := audit.Reason{Rule: r.Rule, Weight: r.Weight, Summary: r.Summary}
		for _, e := range r.Evidence {
			ev := e.Path
			if e.Line > 0 {
				ev += fmt.Sprintf(":%d", e.Line)
			}
			if e.Note != "" {
				ev += " (" + e.Note + ")"
			}
			ar.Evidence = append(ar.Evidence, ev)
		}
		d.Reasons = append(d.Reasons, ar)
	}
	return d
}

func decode(row assessment.Record, rec *record) error {
	if err := json.Unmarshal(row.Result, rec); err != nil {
		return fmt.Errorf("decode assessment %s: %w", row.ID, err)
	}
	return nil
}

// previous is the last assessment of the same pull request to compare with.
func (o *Agent) previous(ctx context.Context, s Subject) (*assessment.Record, error) {
	prev, err := o.deps.Assessments.LatestAssessment(ctx, s.RepositoryID, s.Number, s.ID)
	if errors.Is(err, assessment.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &prev, nil
}

func previousView(p *assessment.Record) *render.Previous {
	if p == nil || p.Level == assessment.LevelInvalidPolicy {
		return nil
	}
	return &render.Previous{Head: p.HeadSHA, Level: p.Level, Score: p.Score, Rules: p.Rules}
}

// Proposal is how an assessment routes a commit's deploy.
type Proposal struct {
	Assessed  bool            // false: ferry has not assessed this commit (nothing else is set)
	Strategy  policy.Strategy // the route's deploy strategy
	Watch     time.Duration   // how long to watch after the rollout
	NeedHuman []string        // why a human must approve (none: nobody needs to)
}

// ProposedDeploy is how the latest assessment of a commit — the head of a
// pull request (number > 0) or a push — routes its deploy.
func (o *Agent) ProposedDeploy(ctx context.Context, repositoryID int64, number int, sha string) (Proposal, error) {
	row, err := o.deps.Assessments.AssessmentOf(ctx, repositoryID, number, sha)
	if errors.Is(err, assessment.ErrNotFound) {
		return Proposal{}, nil
	}
	if err != nil {
		return Proposal{}, err
	}
	var rec record
	if err := decode(row, &rec); err != nil || rec.Route == nil {
		return Proposal{}, err
	}
	p := Proposal{Assessed: true, Strategy: rec.Route.Deploy, Watch: rec.Route.Watch}
	if rec.Route.Approval {
		p.NeedHuman = append(p.NeedHuman, rec.Route.ApprovalReasons...)
	}
	return p, nil
}
