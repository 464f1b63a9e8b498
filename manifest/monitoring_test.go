package manifest_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"sigs.k8s.io/yaml"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/github"
	"github.com/ferry-ci/ferry/internal/jobs"
	"github.com/ferry-ci/ferry/internal/store"
	"github.com/ferry-ci/ferry/internal/testenv"
	"github.com/ferry-ci/ferry/internal/webhook"
)

const (
	alertsFile    = "monitoring/ferry-alerts.yml"
	alertTests    = "monitoring/ferry-alerts.test.yml"
	dashboardFile = "monitoring/ferry-dashboard.json"
)

// TestMonitoring_Promtool: the alerting rules load in Prometheus (promtool
// check rules) and fire when, and only when, their unit tests say.
func TestMonitoring_Promtool(t *testing.T) {
	promtool := testenv.Command(t, "promtool", "Debian's prometheus package ships it: apt-get install prometheus (.ci/run does)")
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", alertTests}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestMonitoring_MetricNames: every metric the rules and the dashboard
// read is one ferry registers — a renamed metric must not leave an alert
// that can never fire — and every ferry metric has a panel.
func TestMonitoring_MetricNames(t *testing.T) {
	registered := registeredNames(t)
	used := map[string][]string{} // metric → files using it
	for _, f := range []string{alertsFile, alertTests, dashboardFile} {
		for _, expr := range expressions(t, f) {
			for _, name := range metricNames(expr) {
				used[name] = append(used[name], f)
			}
		}
	}
	for name, files := range used {
		if !exposes(registered, name) {
			t.Errorf("%s (in %v) is not a metric ferry registers", name, slices.Compact(files))
		}
	}
	for name := range registered {
		if strings.HasPrefix(name, "ferry_") && !slices.ContainsFunc(used[name], func(f string) bool { return f == dashboardFile }) &&
			!usedWithSuffix(used, name, dashboardFile) {
			t.Errorf("%s has no panel in %s", name, dashboardFile)
		}
	}
}

// registeredNames builds ferry's registry as `ferry serve` does
// (cmd/ferry/serve.go: process and Go collectors, the deploy collector,
// the GitHub adapter's, the job queue's and the webhook's metrics) and
// returns the names of every metric described on it.
func registeredNames(t *testing.T) map[string]bool {
	t.Helper()
	reg := &describing{Registerer: prometheus.NewRegistry(), names: map[string]bool{}}
	db := dbtest.Open(t, dbtest.SQLiteURL(t))
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		store.NewDeployCollector(db))
	github.NewMetrics(reg)
	q, err := jobs.New(db, jobs.Config{}, noHandler{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(ctx)
	})
	webhook.NewMetrics(reg)
	return reg.names
}

// describing registers collectors and notes the names they describe:
// vectors nobody has observed yet have no series to gather, but they
// describe themselves.
type describing struct {
	prometheus.Registerer
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describing) Register(c prometheus.Collector) error {
	descs := make(chan *prometheus.Desc)
	go func() {
		c.Describe(descs)
		close(descs)
	}()
	for desc := range descs {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
	return d.Registerer.Register(c)
}

func (d *describing) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

type noHandler struct{}

func (noHandler) HandleDelivery(context.Context, event.Delivery) error { return nil }

// expressions are the PromQL a file holds: the rules' expr, the tests'
// input series and the dashboard's targets.
func expressions(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if filepath.Ext(file) == ".json" {
		err = json.Unmarshal(b, &doc)
	} else {
		err = yaml.Unmarshal(b, &doc)
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "series") {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(out) == 0 {
		t.Fatalf("%s holds no expressions", file)
	}
	return out
}

// metricName finds ferry's metrics and the process's (go_*, process_*) in
// PromQL: ferry's names all start with ferry_, and no label value or
// function does. up is Prometheus's own.
var metricName = regexp.MustCompile(`\b(?:ferry|go|process)_[a-zA-Z0-9_:]*`)

func metricNames(expr string) []string { return metricName.FindAllString(expr, -1) }

// exposes tells whether a registered metric exposes name: itself, or a
// histogram's or summary's _bucket, _sum or _count series.
func exposes(registered map[string]bool, name string) bool {
	if registered[name] {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && registered[base] {
			return true
		}
	}
	return false
}

// usedWithSuffix: a histogram is on a panel through its series.
func usedWithSuffix(used map[string][]string, name, file string) bool {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if slices.Contains(used[name+suffix], file) {
			return true
		}
	}
	return false
}
