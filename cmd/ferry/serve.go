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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferry-ci/ferry/internal/app"
	"github.com/ferry-ci/ferry/internal/deployagent"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/kube"
	"github.com/ferry-ci/ferry/internal/orchestrator"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/prom"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/webhook"
)

// ServeCmd serves webhooks and works jobs.
type ServeCmd struct {
	Listen            string `name:"listen" env:"FERRY_LISTEN" default:"127.0.0.1:8080" help:"Address to serve HTTP on."`
	WebhookSecret     string `name:"webhook-secret" env:"FERRY_WEBHOOK_SECRET" help:"The GitHub App's webhook secret."`
	WebhookSecretFile string `name:"webhook-secret-file" env:"FERRY_WEBHOOK_SECRET_FILE" help:"File holding the webhook secret."`
	DatabaseFlags
	GitHubFlags
	Workers         int           `name:"workers" env:"FERRY_WORKERS" default:"4" help:"Jobs run at once; 0 only records deliveries (an ingest-only replica)."`
	JobMaxAttempts  int           `name:"job-max-attempts" env:"FERRY_JOB_MAX_ATTEMPTS" default:"10" help:"Attempts before a failing job is discarded (kept, counted, not retried)."`
	JobTimeout      time.Duration `name:"job-timeout" env:"FERRY_JOB_TIMEOUT" default:"5m" help:"A job running longer is cancelled and retried."`
	ShutdownTimeout time.Duration `name:"shutdown-timeout" env:"FERRY_SHUTDOWN_TIMEOUT" default:"30s" help:"How long SIGTERM waits for requests and running jobs."`
	DeployAllow     []string      `name:"deploy-allow" env:"FERRY_DEPLOY_ALLOW" help:"Which repositories may deploy where: owner/repo=context/namespace, globs allowed, repeatable (comma-separated in the env). Unset: any repository, anywhere ferry's kubeconfig reaches."`
	PrometheusURL   string        `name:"prometheus-url" env:"FERRY_PROMETHEUS_URL" help:"Prometheus that deploy analysis queries (policy: environments.*.analysis); without it, analysis holds for a human."`
	Kubeconfig      string        `name:"kubeconfig" env:"FERRY_KUBECONFIG" help:"Kubeconfig for deploys (default: $KUBECONFIG or ~/.kube/config; in a cluster, policy may say in_cluster)."`
	GitCacheDir     string        `name:"git-cache-dir" env:"FERRY_GIT_CACHE_DIR" help:"Where ferry keeps git repositories it fetches to read pull requests larger than GitHub's API lists (default: the user cache directory, ferry/git)."`
	RecoverEvery    time.Duration `name:"recover-every" env:"FERRY_RECOVER_EVERY" default:"10m" help:"How often (and at start) to ask GitHub to redeliver deliveries ferry missed (needs the App's credentials)."`
}

func (s *ServeCmd) validate() ([]byte, error) {
	if err := validateListen(s.Listen); err != nil {
		return nil, err
	}
	if err := s.DatabaseFlags.validate(); err != nil {
		return nil, err
	}
	if err := s.GitHubFlags.validate(); err != nil {
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
	case s.RecoverEvery < time.Second:
		return nil, settingError("recover-every", "FERRY_RECOVER_EVERY", "must be at least 1s, got %s", s.RecoverEvery)
	}
	return readSecret(s.WebhookSecret, s.WebhookSecretFile)
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
	ctx := e.ctx
	db, _, err := s.open(ctx, log)
	if err != nil {
		return err
	}
	defer db.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	periodic, deps, steps, queueRef, err := s.githubParts(log, db)
	if err != nil {
		return err
	}
	deps.Installations = db
	application := app.New(app.Config{Logger: log}, deps)
	queue, err := jobs.New(db, jobs.Config{
		Workers: s.Workers, MaxAttempts: s.JobMaxAttempts, JobTimeout: s.JobTimeout, Logger: log, Periodic: periodic, Steps: steps,
	}, application, reg)
	if err != nil {
		return err
	}
	*queueRef = queue
	hook := webhook.New(webhook.Config{Secret: secret, Logger: log}, queue, application, webhook.NewMetrics(reg))

	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return settingError("listen", "FERRY_LISTEN", "%v", err)
	}
	if err := queue.Start(ctx); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           routes(hook, db, reg, log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second, // a 25 MiB body on a slow link
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "ferry %s listening on http://%s (workers: %d)\n", version, ln.Addr(), s.Workers)
	log.InfoContext(ctx, "serving", "addr", ln.Addr().String(), "workers", s.Workers)
	return s.serve(ctx, log, srv, ln, queue)
}

// githubParts are what needs the App's credentials: the periodic
// recovery of missed deliveries and the risk agent. Without credentials
// ferry only records deliveries.
func (s *ServeCmd) githubParts(log *slog.Logger, db *store.DB) ([]jobs.Periodic, app.Deps, map[string]jobs.Step, **jobs.Queue, error) {
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
		BotLogin: s.GitHubBotLogin, Logger: log})
	if err != nil {
		return nil, none, nil, queue, settingError("github-private-key-file", "FERRY_GITHUB_PRIVATE_KEY_FILE", "%v", err)
	}
	recovery := app.NewRecovery(app.RecoveryConfig{Logger: log}, gh, db)
	clients := func(id int64) orchestrator.GitHub { return gh.Installation(id) }
	cache := s.GitCacheDir
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, none, nil, queue, settingError("git-cache-dir", "FERRY_GIT_CACHE_DIR", "no default (%v): set one", err)
		}
		cache = filepath.Join(dir, "ferry", "git")
	}
	orch, err := orchestrator.New(orchestrator.Config{Logger: log, Git: &git.Cache{Dir: cache}}, clients, db)
	if err != nil {
		return nil, none, nil, queue, err
	}
	allow, err := deployagent.ParseAllow(s.DeployAllow)
	if err != nil {
		return nil, none, nil, queue, settingError("deploy-allow", "FERRY_DEPLOY_ALLOW", "%v", err)
	}
	if len(allow) == 0 {
		log.Warn("no --deploy-allow rules: any installed repository's policy may deploy anywhere ferry's kubeconfig reaches")
	}
	var metrics deployagent.Metrics
	if s.PrometheusURL != "" {
		pc, err := prom.New(s.PrometheusURL)
		if err != nil {
			return nil, none, nil, queue, settingError("prometheus-url", "FERRY_PROMETHEUS_URL", "%v", err)
		}
		metrics = pc
	}
	deployer := deployagent.New(deployagent.Config{Logger: log, Allow: allow, Metrics: metrics}, func(id int64) deployagent.GitHub { return gh.Installation(id) },
		s.clusters(), db, func() deployagent.Enqueuer { return *queue })
	deps := app.Deps{Assessor: orch, Control: db, Deployer: deployer, GitHub: func(id int64) app.CommandGitHub { return gh.Installation(id) }}
	periodic := []jobs.Periodic{{Name: "recover-deliveries", Every: s.RecoverEvery, Run: recovery.Run}}
	return periodic, deps, map[string]jobs.Step{deployagent.StepName: {Run: deployer.Step, GiveUp: deployer.GiveUp}}, queue, nil
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
func (s *ServeCmd) serve(ctx context.Context, log *slog.Logger, srv *http.Server, ln net.Listener, queue *jobs.Queue) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	log.Info("shutting down", "timeout", s.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ShutdownTimeout)
	defer cancel()
	httpErr := srv.Shutdown(sctx)
	jobErr := queue.Stop(sctx)
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	if err := errors.Join(serveErr, httpErr, jobErr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func routes(hook http.Handler, db *store.DB, reg *prometheus.Registry, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/webhook", hook)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		err := db.Ready(ctx)
		if err == nil {
			err = jobs.Ready(ctx, db)
		}
		if err != nil {
			log.WarnContext(ctx, "not ready", "err", err)
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
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
