package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/rollout"
	"github.com/ferry-ci/ferry/internal/store"
)

// BenchmarkMergeToCanary: the default branch's checks pass (check_suite
// completed, a real payload), and staging deploys automatically with a
// canary on the real control plane. Reports the time from the webhook to
// the first canary step applied (the canary Deployment exists), and
// ferry's own overhead across the whole canary: total time minus the
// configured pauses and the time Kubernetes took to roll out.
func BenchmarkMergeToCanary(b *testing.B) {
	cs := kubetest.Client(b)
	ns := kubetest.Namespace(b, cs)
	kubetest.App(b, cs, ns, "api", "ghcr.io/acme/api:v0", 4)
	sim, repoID := newSim(b)
	dsn := dbtest.SQLiteURL(b)
	startWithSim(b, sim, "--database="+dsn, "--kubeconfig="+kubetest.Kubeconfig(b), "--deploy-allow=*=*")
	db := dbtest.Open(b, dsn)
	var toFirst, overhead []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		sha := fmt.Sprintf("%040x", i+1)
		sim.SetFile("acme/api", "main", ".github/ferry.yml", `version: 1
environments:
  staging:
    namespace: `+ns+`
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    auto_deploy: true
    strategy: canary
    canary: {steps: [25, 100], pause: 200ms}
    progress_deadline: 60s
`)
		// The merge: a push to main, which ferry assesses, then CI completes.
		before := sim.Ref("acme/api", "heads/main")
		sim.AddComparison("acme/api", before, sha, docsChange, nil)
		sim.SetBranch("acme/api", "main", sha)
		sim.Push("acme/api", "main", before, sha, []githubsim.PushCommit{{SHA: sha, Message: "Docs", Author: "alice", Modified: []string{"docs/guide.md"}}})
		waitAssessed(b, sim, sha)
		start := time.Now()
		if _, status := sim.CheckSuiteCompleted("acme/api", "main", sha, "success"); status != 202 {
			b.Fatalf("check_suite answered %d", status)
		}
		for {
			c, err := cs.AppsV1().Deployments(ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
			if err == nil && c.Spec.Template.Spec.Containers[0].Image == "ghcr.io/acme/api:"+sha[:8] {
				break
			}
			if time.Since(start) > time.Minute {
				b.Fatal("no canary within a minute")
			}
			time.Sleep(time.Millisecond)
		}
		toFirst = append(toFirst, time.Since(start))
		d := waitDeploy(b, db, repoID, "auto-"+sha+"-staging")
		overhead = append(overhead, ferryOverhead(b, db, d))
	}
	b.StopTimer()
	slices.Sort(toFirst)
	slices.Sort(overhead)
	b.ReportMetric(ms(toFirst[len(toFirst)/2]), "webhook-to-canary-p50-ms")
	b.ReportMetric(ms(toFirst[len(toFirst)*99/100]), "webhook-to-canary-p99-ms")
	b.ReportMetric(ms(overhead[len(overhead)/2]), "ferry-overhead-p50-ms")
	b.ReportMetric(ms(overhead[len(overhead)*99/100]), "ferry-overhead-p99-ms")
}

// waitAssessed waits for ferry's check run on the pushed commit, published
// after its assessment is stored, as CI would take longer than that. A
// suite completed a few milliseconds after the push often ran first (7
// times in 20); ferry never auto-deploys an unassessed commit and retries
// on River's backoff (1 s, then 16 s, then 81 s more), so the figures
// measured the backoff, and a slow assessment could push the canary past
// the benchmark's minute.
func waitAssessed(b *testing.B, sim *githubsim.Sim, sha string) {
	b.Helper()
	for deadline := time.Now().Add(30 * time.Second); len(checkRunsOn(sim, "acme/api", sha)) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("ferry did not assess %s", sha[:8])
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func waitDeploy(b *testing.B, db *store.DB, repoID int64, id string) deploy.Deploy {
	b.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		d, err := db.GetDeploy(context.Background(), id)
		if err == nil && d.Terminal() {
			if d.Status != deploy.Succeeded {
				b.Fatalf("deploy %s: %s", d.Status, d.Message)
			}
			return d
		}
	}
	b.Fatalf("deploy %s did not end", id)
	return deploy.Deploy{}
}

// ferryOverhead is the deploy's time minus its pauses and the time
// Kubernetes took to roll out (the wait steps).
func ferryOverhead(b *testing.B, db *store.DB, d deploy.Deploy) time.Duration {
	b.Helper()
	steps, err := db.DeploySteps(context.Background(), d.ID)
	if err != nil {
		b.Fatal(err)
	}
	total := d.FinishedAt.Sub(d.StartedAt)
	if os.Getenv("FERRY_BENCH_DEBUG") != "" {
		b.Logf("created %s started %s finished %s", d.CreatedAt.Format("15:04:05.000"), d.StartedAt.Format("15:04:05.000"), d.FinishedAt.Format("15:04:05.000"))
		for _, s := range steps {
			b.Logf("  %d %-15s applied %s done %s", s.N, s.Kind, s.AppliedAt.Format("15:04:05.000"), s.DoneAt.Format("15:04:05.000"))
		}
	}
	for _, s := range steps {
		if s.Kind == rollout.WaitRollout || s.Kind == rollout.Pause {
			total -= s.DoneAt.Sub(s.AppliedAt)
		}
	}
	if os.Getenv("FERRY_BENCH_DEBUG") != "" {
		b.Logf("overhead %s", total)
	}
	return total
}
