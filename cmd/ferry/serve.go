package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/alecthomas/kong"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/buildagent"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/kube"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/prom"
	"github.com/ferry-ci/ferry/internal/promoteagent"
	"github.com/ferry-ci/ferry/internal/releaseagent"
	"github.com/ferry-ci/ferry/internal/riskagent"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/testagent"
	"github.com/ferry-ci/ferry/internal/webhook"
)

// ServeCmd serves webhooks and works jobs.
type ServeCmd struct {
	Listen            string `name:"listen" env:"FERRY_LISTEN" default:"127.0.0.1:8080" help:"Address to serve HTTP on."`
	AdminListen       string `name:"admin-listen" env:"FERRY_ADMIN_LISTEN" help:"Serve /metrics, /readyz and /healthz on this address instead; --listen then serves only /webhook (and /healthz)."`
	WebhookSecret     string `name:"webhook-secret" env:"FERRY_WEBHOOK_SECRET" help:"The GitHub App's webhook secret."`
	WebhookSecretFile string `name:"webhook-secret-file" env:"FERRY_WEBHOOK_SECRET_FILE" help:"File holding the webhook secret."`
	// While the webhook secret is rotated, the old one is accepted too.
	WebhookSecretPrevious     string `name:"webhook-secret-previous" env:"FERRY_WEBHOOK_SECRET_PREVIOUS" help:"While rotating the webhook secret: the old one, still accepted beside --webhook-secret; remove it once ferry_webhook_verified_total{secret=previous} stops growing."`
	WebhookSecretPreviousFile string `name:"webhook-secret-previous-file" env:"FERRY_WEBHOOK_SECRET_PREVIOUS_FILE" help:"File holding the previous webhook secret (see --webhook-secret-previous)."`
	DatabaseFlags
	GitHubFlags
	LLMFlags
	Workers               int           `name:"workers" env:"FERRY_WORKERS" default:"4" help:"Jobs run at once; 0 only records deliveries (an ingest-only replica)."`
	JobMaxAttempts        int           `name:"job-max-attempts" env:"FERRY_JOB_MAX_ATTEMPTS" default:"10" help:"Attempts before a failing job is discarded (kept, counted, not retried)."`
	JobTimeout            time.Duration `name:"job-timeout" env:"FERRY_JOB_TIMEOUT" default:"5m" help:"A job running longer is cancelled and retried."`
	ShutdownTimeout       time.Duration `name:"shutdown-timeout" env:"FERRY_SHUTDOWN_TIMEOUT" default:"30s" help:"How long SIGTERM waits for requests and running jobs."`
	DeployAllow           []string      `name:"deploy-allow" env:"FERRY_DEPLOY_ALLOW" help:"Which repositories may deploy where: owner/repo=context/namespace, globs allowed, repeatable (comma-separated in the env). Unset: no deploys at all; '*=*' allows every repository everywhere ferry's kubeconfig reaches."`
	AnalysisAllowUnscoped bool          `name:"analysis-allow-unscoped" env:"FERRY_ANALYSIS_ALLOW_UNSCOPED" help:"Let policies' analysis queries read series outside their environment's namespace (one team's ferry and Prometheus only): their results are posted on pull requests."`
	PrometheusURL         string        `name:"prometheus-url" env:"FERRY_PROMETHEUS_URL" help:"Prometheus that deploy analysis queries (policy: environments.*.analysis); without it, analysis holds for a human."`
	Kubeconfig            string        `name:"kubeconfig" env:"FERRY_KUBECONFIG" help:"Kubeconfig for deploys (default: $KUBECONFIG or ~/.kube/config; in a cluster, policy may say in_cluster)."`
	GitCacheDir           string        `name:"git-cache-dir" env:"FERRY_GIT_CACHE_DIR" help:"Where ferry keeps git repositories it fetches to read pull requests larger than GitHub's API lists (default: the user cache directory, ferry/git)."`
	GitCacheQuota         int64         `name:"git-cache-max-bytes" env:"FERRY_GIT_CACHE_MAX_BYTES" default:"2147483648" help:"Disk quota of the git cache, in bytes (default 2 GiB): past it the least recently used repositories are removed, never one being read; one fetch may bring at most this."`
	RecoverEvery          time.Duration `name:"recover-every" env:"FERRY_RECOVER_EVERY" default:"10m" help:"How often (and at start) to ask GitHub to redeliver deliveries ferry missed (needs the App's credentials)."`
	Retention             time.Duration `name:"retention" env:"FERRY_RETENTION" default:"720h" help:"How long delivery payloads are kept once handled or ignored (0: forever); ids and digests stay for deduplication, assessments, decisions and deploys are kept."`

	WebhookMaxInFlightBytes int64 `name:"webhook-max-inflight-bytes" env:"FERRY_WEBHOOK_MAX_INFLIGHT_BYTES" default:"67108864" help:"Webhook bodies held in memory at once, in bytes, at least 26214400 (one 25 MiB payload); past it deliveries are answered 503 unread."`

	secretsOnCommandLine []string // set by AfterApply
	previousSecret       []byte   // set by validate: nil unless rotating
}

// AfterApply notes, once kong has filled the flags, which webhook secrets
// were typed on the command line.
func (s *ServeCmd) AfterApply(kctx *kong.Context) error {
	s.secretsOnCommandLine = secretsOnCommandLine(kctx)
	return nil
}

func (s *ServeCmd) validate() ([]byte, error) {
	if err := validateListen(s.Listen, "listen", "FERRY_LISTEN"); err != nil {
		return nil, err
	}
	if s.AdminListen != "" {
		if err := validateListen(s.AdminListen, "admin-listen", "FERRY_ADMIN_LISTEN"); err != nil {
			return nil, err
		}
	}
	if err := s.DatabaseFlags.validate(); err != nil {
		return nil, err
	}
	if err := s.GitHubFlags.validate(); err != nil {
		return nil, err
	}
	if err := s.LLMFlags.validate(); err != nil {
		return nil, err
	}
	switch {
	case s.Workers < 0:
		return nil, settingError("workers", "FERRY_WORKERS", "must be 0 or more, got %d", s.Workers)
	case s.JobMaxAttempts < 1:
		return nil, settingError("job-max-attempts", "FERRY_JOB_MAX_ATTEMPTS", "must be at least 1, got %d", s.JobMaxAttempts)
	case s.JobTimeout < time.Second:
		return nil, settingError("job-timeout", "FERRY_JOB_TIMEOUT", "must be at least 1s, got %s", s.JobTimeout)
	case s.ShutdownTimeout <= 0:
		return nil, settingError("shutdown-timeout", "FERRY_SHUTDOWN_TIMEOUT", "must be positive, got %s", s.ShutdownTimeout)
	case s.Retention < 0 || (s.Retention > 0 && s.Retention < time.Hour):
		return nil, settingError("retention", "FERRY_RETENTION", "must be 0 (forever) or at least 1h, got %s", s.Retention)
	case s.RecoverEvery < time.Second:
		return nil, settingError("recover-every", "FERRY_RECOVER_EVERY", "must be at least 1s, got %s", s.RecoverEvery)
	case s.WebhookMaxInFlightBytes < webhook.MaxBody:
		return nil, settingError("webhook-max-inflight-bytes", "FERRY_WEBHOOK_MAX_INFLIGHT_BYTES",
			"must be at least %d (one payload of GitHub's largest), got %d", webhook.MaxBody, s.WebhookMaxInFlightBytes)
	}
	secret, err := readSecret(s.WebhookSecret, s.WebhookSecretFile)
	if err == nil {
		err = checkSecretLength(secret, s.WebhookSecretFile != "")
	}
	if err == nil {
		s.previousSecret, err = readPreviousSecret(s.WebhookSecretPrevious, s.WebhookSecretPreviousFile, secret)
	}
	return secret, err
}

// Run implements the command.
func (s *ServeCmd) Run(e *env) error {
	secret, err := s.validate()
	if err != nil {
		return err
	}
	log, err := e.cli.logger(e.stderr)
	if err != nil {
		return err
	}
	for _, flag := range s.secretsOnCommandLine {
		log.Warn(secretOnCommandLineWarning(flag))
	}
	ctx := e.ctx
	db, _, err := s.DatabaseFlags.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		store.NewDeployCollector(db), store.NewLLMCollector(db))
	periodic, deps, steps, queueRef, err := s.githubParts(log, db, reg)
	if err != nil {
		return err
	}
	if s.Retention > 0 {
		periodic = append(periodic, retention(db, s.Retention, log))
	}
	deps.Installations = db
	application := app.New(app.Config{Logger: log, AppID: s.GitHubAppID, Policy: s.policyOptions()}, deps)
	if deps.Promoter != nil {
		steps[deployEndedStep] = jobs.Step{Run: application.DeployEnded}
	}
	queue, err := jobs.New(db, jobs.Config{
		Workers: s.Workers, MaxAttempts: s.JobMaxAttempts, JobTimeout: s.JobTimeout, Logger: log, Periodic: periodic, Steps: steps,
	}, application, reg)
	if err != nil {
		return err
	}
	*queueRef = queue
	hook := webhook.New(webhook.Config{Secret: secret, PreviousSecret: s.previousSecret, MaxInFlightBytes: s.WebhookMaxInFlightBytes, Logger: log},
		queue, application, webhook.NewMetrics(reg))
	ready := &readiness{check: func(ctx context.Context) error { return dbReady(ctx, db) }, ttl: readyTTL, now: time.Now, log: log}
	public, admin := s.handlers(hook, ready, reg)
	servers, err := s.listen(public, admin, log)
	if err != nil {
		return err
	}
	if err := queue.Start(ctx); err != nil {
		for _, sv := range servers {
			sv.ln.Close()
		}
		return err
	}
	s.announce(e, log, servers)
	return s.serve(ctx, log, servers, queue)
}

// announce says where ferry listens. Tests and scripts read the first
// line: it stays first and keeps its shape; the admin address follows.
func (s *ServeCmd) announce(e *env, log *slog.Logger, servers []served) {
	fmt.Fprintf(e.stdout, "ferry %s listening on http://%s (workers: %d)\n", version, servers[0].ln.Addr(), s.Workers)
	attrs := []any{"addr", servers[0].ln.Addr().String(), "workers", s.Workers}
	if len(servers) > 1 {
		fmt.Fprintf(e.stdout, "admin listening on http://%s (/metrics, /readyz, /healthz)\n", servers[1].ln.Addr())
		attrs = append(attrs, "admin_addr", servers[1].ln.Addr().String())
	}
	log.InfoContext(e.ctx, "serving", attrs...)
}

// served is an HTTP server and the listener it serves.
type served struct {
	srv *http.Server
	ln  net.Listener
}

// listen opens --listen for public and, when set, --admin-listen for admin.
func (s *ServeCmd) listen(public, admin http.Handler, log *slog.Logger) ([]served, error) {
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, settingError("listen", "FERRY_LISTEN", "%v", err)
	}
	servers := []served{{newServer(public, log), ln}}
	if s.AdminListen == "" {
		return servers, nil
	}
	aln, err := net.Listen("tcp", s.AdminListen)
	if err != nil {
		ln.Close()
		return nil, settingError("admin-listen", "FERRY_ADMIN_LISTEN", "%v", err)
	}
	return append(servers, served{newServer(admin, log), aln}), nil
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// A 25 MiB body on a slow link. It also bounds how long a client
		// that trickles its body holds part of the webhook's in-flight
		// budget: the read fails and the budget is released.
		ReadTimeout:    60 * time.Second,
		WriteTimeout:   30 * time.Second,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// githubParts are what needs the App's credentials: the periodic
// recovery of missed deliveries and the risk agent. Without credentials
// ferry only records deliveries.
func (s *ServeCmd) githubParts(log *slog.Logger, db *store.DB, reg prometheus.Registerer) ([]jobs.Periodic, app.Deps, map[string]jobs.Step, **jobs.Queue, error) {
	none, queue := app.Deps{}, new(*jobs.Queue)
	if s.GitHubAppID == 0 {
		log.Warn("no GitHub App credentials: ferry records deliveries but does not act on them or recover missed ones")
		return nil, none, nil, queue, nil
	}
	key, err := os.ReadFile(s.GitHubPrivateKeyFile)
	if err != nil {
		return nil, none, nil, queue, settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "cannot read: %v", err)
	}
	gh, err := github.New(github.Config{AppID: s.GitHubAppID, PrivateKey: key, BaseURL: s.GitHubAPIURL,
		BotLogin: s.GitHubBotLogin, Comments: db, Logger: log, Metrics: github.NewMetrics(reg)})
	if err != nil {
		return nil, none, nil, queue, settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "%v", err)
	}
	recovery := app.NewRecovery(app.RecoveryConfig{Logger: log}, gh, db)
	cache, err := s.gitCache()
	if err != nil {
		return nil, none, nil, queue, err
	}
	model, err := s.LLMFlags.open(db, log)
	if err != nil {
		return nil, none, nil, queue, err
	}
	assessor, err := riskagent.New(riskagent.Config{Logger: log}, riskagent.Deps{
		Changes:     func(id int64) riskagent.Changes { return gh.Installation(id) },
		Publisher:   func(id int64) riskagent.Publisher { return gh.Installation(id) },
		Git:         cache,
		Assessments: db, Publications: db, History: db, Control: db, Audit: db, Models: db, Histories: cache, Model: model,
	})
	if err != nil {
		return nil, none, nil, queue, err
	}
	releaser, tester, builder, err := proposers(log, db, gh, cache, model)
	if err != nil {
		return nil, none, nil, queue, err
	}
	writer, err := testWriter(log, db, gh, cache, model, s.GitHubAppID)
	if err != nil {
		return nil, none, nil, queue, err
	}
	deployer, err := s.deployer(log, db, gh, queue)
	if err != nil {
		return nil, none, nil, queue, err
	}
	promoter, err := promoteagent.New(promoteagent.Config{Logger: log}, promoteagent.Deps{
		GitHub:  func(id int64) promoteagent.GitHub { return gh.Installation(id) },
		History: cache, Promotions: db, Deploys: db, Deployer: deployer, Risks: assessor, Control: db, Audit: db, Model: model,
	})
	if err != nil {
		return nil, none, nil, queue, err
	}
	deps := app.Deps{Assessor: assessor, Control: db, Audit: db, Deployer: deployer, Heads: db, Releaser: releaser, Promoter: promoter,
		Tester: tester, Builder: builder, Writer: writer,
		GitHub: func(id int64) app.CommandGitHub { return gh.Installation(id) }}
	periodic := []jobs.Periodic{{Name: "recover-deliveries", Every: s.RecoverEvery, Run: recovery.Run}}
	steps := map[string]jobs.Step{deployagent.StepName: {Run: deployer.Step, GiveUp: deployer.GiveUp},
		deployagent.GateStepName: {Run: deployer.GateStep}}
	return periodic, deps, steps, queue, nil
}

// proposers are the agents that open ferry's pull requests from what a
// repository holds: releases, quarantines, Dockerfile rewrites.
func proposers(log *slog.Logger, db *store.DB, gh *github.App, cache *git.Cache, model llmModel) (*releaseagent.Agent, *testagent.Agent, *buildagent.Agent, error) {
	releaser, err := releaseagent.New(releaseagent.Config{Logger: log}, releaseagent.Deps{
		GitHub:  func(id int64) releaseagent.GitHub { return gh.Installation(id) },
		History: cache, Releases: db, Signals: db, Control: db, Audit: db, Model: model,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	tester := testagent.New(testagent.Config{Logger: log}, testagent.Deps{
		GitHub: func(id int64) testagent.GitHub { return gh.Installation(id) }, Results: db, Audit: db})
	builder, err := buildagent.New(buildagent.Config{Logger: log}, buildagent.Deps{
		GitHub: func(id int64) buildagent.GitHub { return gh.Installation(id) }, Git: cache, Audit: db})
	return releaser, tester, builder, err
}

// retention blanks old delivery payloads hourly, on one replica (River's
// leader runs periodic work).
func retention(db *store.DB, keep time.Duration, log *slog.Logger) jobs.Periodic {
	return jobs.Periodic{Name: "retention", Every: time.Hour, Run: func(ctx context.Context) error {
		n, err := db.BlankPayloads(ctx, time.Now().Add(-keep))
		if n > 0 {
			log.InfoContext(ctx, "delivery payloads past retention blanked", "count", n, "retention", keep)
		}
		return err
	}}
}

// deployEndedStep is the job that follows a deploy as it ends.
const deployEndedStep = "deploy-ended"

// gitCache is where ferry keeps the repositories it reads with git: huge
// pull requests (the risk agent) and default-branch histories (the
// release agent), one cache under one quota.
func (s *ServeCmd) gitCache() (*git.Cache, error) {
	dir := s.GitCacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, settingError("git-cache-dir", "FERRY_GIT_CACHE_DIR", "no default (%v): set one", err)
		}
		dir = filepath.Join(base, "ferry", "git")
	}
	return &git.Cache{Dir: dir, MaxBytes: s.GitCacheQuota}, nil
}

// deployer is the deploy agent. Without --deploy-allow rules it deploys
// nothing: a capability that can hurt is off until an operator says where.
func (s *ServeCmd) deployer(log *slog.Logger, db *store.DB, gh *github.App, queue **jobs.Queue) (*deployagent.Agent, error) {
	allow, err := deployagent.ParseAllow(s.DeployAllow)
	if err != nil {
		return nil, settingError("deploy-allow", "FERRY_DEPLOY_ALLOW", "%v", err)
	}
	if len(allow) == 0 {
		log.Warn("deploys are off: no --deploy-allow rules; ferry refuses every deploy (rollbacks of its own deploys stay possible). " +
			"Allow one repository into one namespace with --deploy-allow 'OWNER/REPO=CONTEXT/NAMESPACE' (globs allowed), everything with '*=*'")
	}
	var metrics deployagent.Metrics
	if s.PrometheusURL != "" {
		pc, err := prom.New(s.PrometheusURL)
		if err != nil {
			return nil, settingError("prometheus-url", "FERRY_PROMETHEUS_URL", "%v", err)
		}
		metrics = pc
	}
	return deployagent.New(deployagent.Config{Logger: log, Allow: allow, Metrics: metrics, AppID: s.GitHubAppID}, deployagent.Deps{
		GitHub:    func(id int64) deployagent.GitHub { return gh.Installation(id) },
		CI:        func(id int64) deployagent.CI { return gh.Installation(id) },
		Clusters:  s.clusters(),
		Scheduler: func() deployagent.Scheduler { return *queue },
		Deploys:   db, Progress: db, Steps: db, Control: db, Audit: db,
		Gates: db, Reviewer: func(id int64) deployagent.Reviewer { return gh.Installation(id) },
		// Production-deploy pull requests follow deploys as they end, one
		// repository's at a time.
		Ending: func(ctx context.Context, d deploy.Deploy) error {
			return (*queue).EnqueueStep(ctx, deployEndedStep, d.ID, "promote/"+strconv.FormatInt(d.RepositoryID, 10))
		},
	}), nil
}

// policyOptions are the operator's say over what repositories' policies
// may ask.
func (s *ServeCmd) policyOptions() policy.Options {
	return policy.Options{AllowUnscopedQueries: s.AnalysisAllowUnscoped}
}

// clusters connects to an environment's cluster once and keeps the client.
func (s *ServeCmd) clusters() func(env policy.Environment) (deployagent.Kube, error) {
	var mu sync.Mutex
	known := map[string]*kube.Cluster{}
	return func(env policy.Environment) (deployagent.Kube, error) {
		key := fmt.Sprintf("%t/%s", env.InCluster, env.Context)
		mu.Lock()
		defer mu.Unlock()
		if c, ok := known[key]; ok {
			return c, nil
		}
		c, err := kube.Connect(kube.Config{Kubeconfig: s.Kubeconfig, Context: env.Context, InCluster: env.InCluster})
		if err != nil {
			return nil, event.Permanent(err)
		}
		known[key] = c
		return c, nil
	}
}

// serve runs until ctx ends, then shuts down: stop accepting, finish
// requests in flight, let running jobs finish until the deadline. Jobs cut
// off are made available again and run after the next start.
func (s *ServeCmd) serve(ctx context.Context, log *slog.Logger, servers []served, queue *jobs.Queue) error {
	errc := make(chan error, len(servers))
	for _, sv := range servers {
		go func() { errc <- sv.srv.Serve(sv.ln) }()
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down", "timeout", s.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
	defer cancel()
	var httpErrs []error
	for _, sv := range servers {
		httpErrs = append(httpErrs, sv.srv.Shutdown(sctx))
	}
	jobErr := queue.Stop(sctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := errors.Join(serveErr, errors.Join(httpErrs...), jobErr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// handlers are the public routes (the webhook) and the operator's (metrics,
// readiness). Without --admin-listen one address serves both; /healthz is
// on each, since it tells only that the process answers.
func (s *ServeCmd) handlers(hook, ready http.Handler, reg *prometheus.Registry) (public, admin http.Handler) {
	healthz := func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }
	pub := http.NewServeMux()
	pub.Handle("/webhook", hook)
	pub.HandleFunc("GET /healthz", healthz)
	ops := pub
	if s.AdminListen != "" {
		ops = http.NewServeMux()
		ops.HandleFunc("GET /healthz", healthz)
	}
	ops.Handle("GET /readyz", ready)
	ops.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return pub, ops
}

// dbReady: the database answers and both schemas are current.
func dbReady(ctx context.Context, db *store.DB) error {
	if err := db.Ready(ctx); err != nil {
		return err
	}
	return jobs.Ready(ctx, db)
}

// MigrateCmd applies migrations.
type MigrateCmd struct {
	DatabaseFlags
}

// Run implements the command.
func (m *MigrateCmd) Run(e *env) error {
	if err := m.validate(); err != nil {
		return err
	}
	log, err := e.cli.logger(e.stderr)
	if err != nil {
		return err
	}
	db, v, err := m.open(e.ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = fmt.Fprintf(e.stdout, "database migrated: schema version %d\n", v)
	return err
}
