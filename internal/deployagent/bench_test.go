package deployagent_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/promtest"
)

// BenchmarkRollback: from the moment the canary starts failing to the
// moment the rollback is complete (canary retired, deploy ended), with
// Prometheus scraping every 1 s, ferry checking every 1 s over a 5 s rate
// window and rolling back after 2 failed checks. Reports p50 and max.
func BenchmarkRollback(b *testing.B) {
	promtest.URL(b)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		name := uniqueApp(fmt.Sprintf("bench%d", i))
		app := promtest.StartApp(b, name, 40, map[string]promtest.Behaviour{
			"stable": {Latency: 50 * time.Millisecond}, "canary": {Latency: 50 * time.Millisecond}})
		w := setup(b, strings.ReplaceAll(incidentPolicy, "APP", name))
		d := w.request(b, "production", fmt.Sprint(i%9+1), false, false)
		w.waitCanary(b, fmt.Sprint(i%9+1))
		time.Sleep(2 * time.Second)
		app.Set("canary", promtest.Behaviour{ErrorRate: 0.5, Latency: 50 * time.Millisecond})
		start := time.Now()
		for {
			got, err := w.db.GetDeploy(b.Context(), d.ID)
			if err != nil {
				b.Fatal(err)
			}
			if got.Terminal() {
				if got.Status != deploy.Failed {
					b.Fatalf("deploy %s: %s", got.Status, got.Message)
				}
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Milliseconds()), "rollback-p50-ms")
	b.ReportMetric(float64(took[len(took)-1].Milliseconds()), "rollback-max-ms")
}
