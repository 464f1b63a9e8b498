package main

import (
	"context"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// TestAttack_MigrationHoldOverwritten: the metrics condemn a canary whose
// change adds a migration, so ferry holds for a human (only a forced
// rollback may cross the migration). Then Prometheus goes away and a
// second hold ("metrics unavailable") replaces the first one's message.
// The need for --force survives it: /ferry rollback without it is still
// refused, with it the canary is retired.
func TestAttack_MigrationHoldOverwritten(t *testing.T) {
	target, err := url.Parse(promtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	defer proxy.Close()
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	sim, repoID := newSim(t)
	base := sim.Ref("acme/api", "heads/main")
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:"+base[:8], 2)
	appName := strings.ReplaceAll("hold-"+time.Now().Format("150405.000000"), ".", "")
	app := promtest.StartApp(t, appName, 40, map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}}, map[string]string{"namespace": ns})
	sel := `namespace="{{ .Namespace }}",app="` + appName + `",track="{{ .Track }}"`
	sim.SetFile("acme/api", "main", ".github/ferry.yml", envPolicy("", ns, "needs_human: false", "strategy: canary",
		"canary: {steps: [50, 100], pause: 120s}", "progress_deadline: 60s",
		"analysis:", "  interval: 1s", "  window: 5s", "  fail_after: 2", "  metrics:", "    - name: error rate", "      max: 0.05",
		`      query: '(sum(rate(http_requests_total{`+sel+`,code="500"}[{{ .Window }}])) or vector(0)) / sum(rate(http_requests_total{`+sel+`}[{{ .Window }}]))'`))
	sim.SetPermission("acme/api", "max", "maintain")
	migration := []githubsim.File{
		{Filename: "db/migrate/20261130_orders_total.sql", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+ALTER TABLE orders ADD COLUMN total int;"},
		{Filename: "internal/orders/orders.go", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n x\n+y"}}
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Orders total", Files: migration})
	head := sim.PullRequests("acme/api")[0].HeadSHA
	sim.AddComparison("acme/api", base[:8], head, migration, nil)
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--kubeconfig="+kubetest.Kubeconfig(t), "--deploy-allow=*=*", "--prometheus-url="+proxy.URL)
	sim.OpenPullRequest("acme/api", n)
	db := dbtest.Open(t, dsn)

	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production"); !ok {
		t.Fatalf("deploy refused:\n%s", reply)
	}
	waitFor(t, "the canary's pods", func() bool {
		return kubetest.Images(t, cs, ns, "app=api,ferry.dev/track=canary")["ghcr.io/acme/api:"+head[:8]] >= 1
	})
	app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
	current := func() deploy.Deploy {
		ds, _ := db.Deploys(context.Background(), repoID, "production")
		if len(ds) != 1 {
			return deploy.Deploy{}
		}
		return ds[0]
	}
	waitFor(t, "the migration hold", func() bool { return current().HoldCause == deploy.HoldMigrations })
	proxy.Close()
	waitFor(t, "the no-data hold over it", func() bool {
		d := current()
		return d.HoldCause == deploy.HoldAnalysis && strings.Contains(d.Message, "unavailable")
	})
	if d := current(); !d.NeedsForce || strings.Contains(d.Message, "migrations") {
		t.Fatalf("hold %s, needs force %t: %s", d.HoldCause, d.NeedsForce, d.Message)
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry rollback production"); ok || !strings.Contains(reply, "--force") {
		t.Fatalf("rolled back over a migration without --force: ok %t\n%s", ok, reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry rollback production --force"); !ok {
		t.Fatalf("--force refused:\n%s", reply)
	}
	waitFor(t, "the forced rollback", func() bool { return current().EndCause == deploy.EndRolledBackRequest })
	waitFor(t, "the canary retired", func() bool {
		return kubetest.Images(t, cs, ns, "app=api,ferry.dev/track=canary")["ghcr.io/acme/api:"+head[:8]] == 0
	})
}
