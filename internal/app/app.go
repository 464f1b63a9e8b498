// Package app maps GitHub events to what ferry does about them. It holds the
// one table from (event, action) to handler; the webhook edge asks it which
// deliveries deserve a job and the job queue hands it each stored delivery.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ferry-ci/ferry/internal/event"
	ghadapter "github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/install"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/render"
)

// InstallationStore keeps the installations and repositories tables true.
type InstallationStore interface {
	SaveInstallation(ctx context.Context, inst install.Installation, repos []install.Repository, at time.Time) error
	RemoveRepositories(ctx context.Context, installationID int64, ids []int64, at time.Time) error
	DeleteInstallation(ctx context.Context, inst install.Installation, at time.Time) error
	SetInstallationSuspended(ctx context.Context, id int64, suspended bool, at time.Time) error
}

// Config configures the application.
type Config struct {
	Logger *slog.Logger
	Now    func() time.Time
	// AppID is ferry's own GitHub App: its check suites are not CI.
	AppID int64
	// Policy is the server operator's say over what a policy may ask.
	Policy policy.Options
}

// Deps are the application's collaborators. Without an Assessor (ferry
// has no GitHub App credentials) pull requests and pushes are not acted
// on; without GitHub, Control and Audit, neither are commands.
type Deps struct {
	Installations InstallationStore
	Assessor      Assessor
	GitHub        func(installationID int64) CommandGitHub
	Control       Control
	Audit         Audit
	Deployer      Deployer // nil: deploy and rollback answer "no deploy target configured"
	Heads         Heads    // nil: who pushed a head is not recorded (the head commit's authors stand in)
	Releaser      Releaser // nil: no release pull requests; /ferry changelog answers it is not running
	Promoter      Promoter // nil: no production-deploy pull requests
	Tester        Tester   // nil: CI's test reports are not read
	Builder       Builder  // nil: no Dockerfile rewrites are proposed
	Writer        Writer   // nil: no generated-test pull requests; /ferry test answers it is not running
}

// App dispatches deliveries to handlers.
type App struct {
	log           *slog.Logger
	now           func() time.Time
	installations InstallationStore
	assessor      Assessor
	github        func(installationID int64) CommandGitHub
	control       Control
	audit         Audit
	deployer      Deployer
	heads         Heads
	releaser      Releaser
	promoter      Promoter
	tester        Tester
	builder       Builder
	writer        Writer
	appID         int64
	policyOptions policy.Options
	perms         *permissionCache
	render        *render.Renderer
	routes        map[route]handler
}

type route struct{ event, action string }

// anyAction matches every action of an event (and events without one).
const anyAction = "*"

// handler acts on one delivery, given its event as the github adapter
// parsed it (once).
type handler func(ctx context.Context, d event.Delivery, e any) error

// New returns the application.
func New(cfg Config, deps Deps) *App {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &App{log: cfg.Logger, now: cfg.Now, installations: deps.Installations, assessor: deps.Assessor,
		github: deps.GitHub, control: deps.Control, audit: deps.Audit, deployer: deps.Deployer, heads: deps.Heads, releaser: deps.Releaser, promoter: deps.Promoter, tester: deps.Tester, builder: deps.Builder, writer: deps.Writer, appID: cfg.AppID,
		policyOptions: cfg.Policy, perms: newPermissionCache(cfg.Now), render: mustRender()}
	a.routes = map[route]handler{
		{"ping", anyAction}:                          a.ping,
		{"installation", "created"}:                  a.installationCreated,
		{"installation", "new_permissions_accepted"}: a.installationCreated,
		{"installation", "deleted"}:                  a.installationDeleted,
		{"installation", "suspend"}:                  a.installationSuspended,
		{"installation", "unsuspend"}:                a.installationSuspended,
		{"installation_repositories", "added"}:       a.repositoriesAdded,
		{"installation_repositories", "removed"}:     a.repositoriesRemoved,
	}
	if a.assessor != nil {
		a.routeRisk()
		if a.github != nil && a.control != nil && a.audit != nil {
			a.routeCommands()
		}
		if a.deployer == nil {
			a.promoter = nil // it ships with the deploy agent
		}
		if a.tester != nil && a.control != nil {
			a.routes[route{"workflow_run", "completed"}] = a.workflowRun
		}
		if a.releaser != nil || a.promoter != nil || a.writer != nil {
			a.routes[route{"pull_request", "closed"}] = a.pullRequestClosed
		}
		if a.deployer != nil || a.writer != nil {
			a.routes[route{"check_suite", "completed"}] = a.checkSuiteCompleted
		}
		if a.deployer != nil {
			a.routes[route{"status", anyAction}] = a.status
			a.routes[route{"deployment_protection_rule", "requested"}] = a.gateRequested
		}
	}
	return a
}

func mustRender() *render.Renderer {
	r, err := render.New()
	if err != nil {
		panic(err) // the embedded templates are part of the build
	}
	return r
}

func (a *App) lookup(ev, action string) (handler, bool) {
	if h, ok := a.routes[route{ev, action}]; ok {
		return h, true
	}
	h, ok := a.routes[route{ev, anyAction}]
	return h, ok
}

// Handles reports whether ferry acts on this event and action.
func (a *App) Handles(ev, action string) bool {
	_, ok := a.lookup(ev, action)
	return ok
}

// HandleDelivery runs the handler for a stored delivery. Handlers are
// idempotent: a delivery may be handled again after a crash.
func (a *App) HandleDelivery(ctx context.Context, d event.Delivery) error {
	h, ok := a.lookup(d.Event, d.Action)
	if !ok {
		return nil // recorded as ignored at the edge; nothing to do
	}
	e, err := ghadapter.ParseEvent(d)
	if err != nil {
		return err
	}
	return h(ctx, d, e)
}

func (a *App) ping(ctx context.Context, _ event.Delivery, e any) error {
	p, ok := e.(ghadapter.Ping)
	if !ok {
		return unexpected("ping", e)
	}
	a.log.InfoContext(ctx, "ping", "zen", p.Zen)
	return nil
}

// unexpected is an event whose payload is not what its name says: a
// permanent error (retrying cannot fix it).
func unexpected(name string, e any) error {
	return event.Permanent(fmt.Errorf("%s: unexpected payload %T", name, e))
}
