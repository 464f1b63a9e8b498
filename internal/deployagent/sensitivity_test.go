package deployagent_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// defaultsPolicy asks for analysis with the default metrics, read from
// series labelled with the namespace and track.
const defaultsPolicy = `version: 1
environments:
  production:
    namespace: NS
    needs_human: false
    deployments: [{name: api}]
    image: "ghcr.io/acme/api:{{ .ShortSHA }}"
    strategy: canary
    canary: {steps: [50, 100], pause: PAUSE}
    progress_deadline: 60s
    analysis: {interval: 1s, window: 10s}
`

func defaults(pause string) string { return strings.ReplaceAll(defaultsPolicy, "PAUSE", pause) }

// deployBeside starts the test app in the environment's namespace with
// the tracks' behaviour, lets a few seconds of history build, and asks
// for a deploy of version 2 under the policy.
func deployBeside(t *testing.T, policy, app string, tracks map[string]promtest.Behaviour) (*world, *promtest.App, deploy.Deploy) {
	t.Helper()
	promtest.URL(t)
	w := setup(t, policy)
	a := promtest.StartApp(t, uniqueApp(app), 40, tracks, map[string]string{"namespace": w.ns})
	time.Sleep(3 * time.Second)
	return w, a, w.request(t, "production", "2", false, false)
}

// TestIncident_LatencyInsideOneBucket: the canary answers 40% slower than
// stable (100 ms → 140 ms) on the standard histogram buckets, where both
// tracks' p99 interpolates to ~0.25 s inside the 0.1–0.25 s bucket. The
// default analysis compares the exact mean and the share of requests
// above the stable track's typical bucket edge, and rolls it back.
func TestIncident_LatencyInsideOneBucket(t *testing.T) {
	w, app, d := deployBeside(t, defaults("60s"), "bucket", map[string]promtest.Behaviour{
		"stable": {Latency: 100 * time.Millisecond}, "canary": {Latency: 100 * time.Millisecond}})
	w.waitCanary(t, "2")
	app.Set("canary", promtest.Behaviour{Latency: 140 * time.Millisecond})
	end := w.wait(t, d.ID)
	if end.Status != deploy.Failed || !strings.Contains(end.Message, "rolled back automatically") ||
		!(strings.Contains(end.Message, "mean latency") || strings.Contains(end.Message, "slow requests")) {
		t.Fatalf("deploy %s: %s", end.Status, end.Message)
	}
	t.Logf("verdict: %s", end.Message)
}

// TestIncident_DegradedTogether: stable and canary fail together (a
// dependency's outage, not the canary): ferry holds and pages a human
// instead of rolling back what did not cause it; the canary keeps running
// and the hold is in the audit trail with its evidence.
func TestIncident_DegradedTogether(t *testing.T) {
	w, app, d := deployBeside(t, defaults("60s"), "both", map[string]promtest.Behaviour{
		"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
	w.waitCanary(t, "2")
	for _, track := range []string{"stable", "canary"} {
		app.Set(track, promtest.Behaviour{ErrorRate: 0.3, Latency: 50 * time.Millisecond})
	}
	waitUntil(t, "the hold", func() bool {
		got, _ := w.db.GetDeploy(context.Background(), d.ID)
		return got.Status == deploy.Running && strings.Contains(got.Message, "degraded together")
	})
	got, _ := w.db.GetDeploy(context.Background(), d.ID)
	if !strings.Contains(got.Message, "holding for a human instead of rolling back") {
		t.Fatalf("hold: %s", got.Message)
	}
	c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
	if err != nil || *c.Spec.Replicas == 0 {
		t.Fatalf("the canary was retired for a shared outage: %v", err)
	}
	ds, err := w.db.Decisions(context.Background(), audit.Filter{Repository: repo})
	if err != nil {
		t.Fatal(err)
	}
	held := false
	for _, dec := range ds {
		held = held || (dec.Kind == audit.KindHold && strings.Contains(dec.Output, "degraded together"))
		if dec.Kind == audit.KindRollback {
			t.Fatalf("rolled back: %+v", dec)
		}
	}
	if !held {
		t.Fatalf("no hold in the audit trail: %+v", ds)
	}
}

// TestIncident_Baseline: the stable pods are fast from warm caches (60 ms)
// while any fresh pod answers in 100 ms, the new version too. Compared
// with stable, the canary would look 66% slower; with a baseline of the
// current version started beside it at the canary's size (policy
// `baseline: true`), it is the same — promoted, and the baseline retired.
func TestIncident_Baseline(t *testing.T) {
	w, _, d := deployBeside(t, strings.Replace(defaults("8s"), "window: 10s}", "window: 10s, baseline: true}", 1), "base",
		map[string]promtest.Behaviour{"stable": {Latency: 60 * time.Millisecond}, "canary": {Latency: 100 * time.Millisecond},
			"baseline": {Latency: 100 * time.Millisecond}})
	waitUntil(t, "the baseline beside the canary", func() bool {
		b, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-baseline", metav1.GetOptions{})
		c, err2 := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-canary", metav1.GetOptions{})
		return err == nil && err2 == nil && *b.Spec.Replicas == *c.Spec.Replicas && *b.Spec.Replicas > 0 &&
			b.Spec.Template.Spec.Containers[0].Image == image("0") && b.Spec.Template.Labels["ferry.dev/track"] == "baseline"
	})
	succeeded(t, w.wait(t, d.ID))
	b, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-baseline", metav1.GetOptions{})
	if err != nil || *b.Spec.Replicas != 0 {
		t.Fatalf("the baseline was not retired: %v", err)
	}
	w.expectServing(t, "after the promotion", "app=api", map[string]int{image("2"): 3})
}

// TestGiveUpRetiresTheCanary: a deploy whose job gives up (a permanent
// error, no attempts left) no longer leaves its canary and baseline
// taking traffic beside the stable version.
func TestGiveUpRetiresTheCanary(t *testing.T) {
	w := setup(t, strings.Replace(strings.ReplaceAll(defaultsPolicy, "PAUSE", "10m"), "window: 10s}", "window: 10s, baseline: true}", 1))
	d := w.request(t, "production", "2", false, false)
	waitUntil(t, "the canary and its baseline", func() bool {
		b, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), "api-baseline", metav1.GetOptions{})
		return err == nil && *b.Spec.Replicas > 0 && kubetest.Images(t, w.cs, w.ns, "app=api,ferry.dev/track=canary")[image("2")] >= 1
	})
	w.agent.GiveUp(context.Background(), d.ID, errors.New("no attempts left"))
	for _, name := range []string{"api-canary", "api-baseline"} {
		c, err := w.cs.AppsV1().Deployments(w.ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil || *c.Spec.Replicas != 0 {
			t.Fatalf("%s still runs after giving up: %v", name, err)
		}
	}
	if got, _ := w.db.GetDeploy(context.Background(), d.ID); got.Status != deploy.Failed {
		t.Fatalf("deploy %s", got.Status)
	}
}
