package policy

import (
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/VictoriaMetrics/metricsql"
)

// Options are the server operator's say over what a policy may ask.
type Options struct {
	// AllowUnscopedQueries lets analysis queries read series outside the
	// environment's namespace (one team's ferry, one team's Prometheus).
	AllowUnscopedQueries bool
}

// scopeNamespace stands in for {{ .Namespace }} when a query is checked.
const scopeNamespace = "ferry-scope-check-namespace"

// unscoped says why an analysis query could read another tenant's series
// ("" when every selector is held to the environment's namespace): each
// selector, in every "or" group, must match namespace="{{ .Namespace }}"
// exactly. Evidence from a query is posted on pull requests.
func unscoped(query string) string {
	t, err := template.New("q").Option("missingkey=error").Parse(query)
	if err != nil {
		return "is not a valid template: " + err.Error()
	}
	// Only plain {{ .Field }}: with {{ if }} or a pipe a query could read
	// one namespace when checked and another when run.
	for _, n := range t.Tree.Root.Nodes {
		if !plainNode(n) {
			return "uses template logic (" + n.String() + "): only {{ .Namespace }}, {{ .Track }}, {{ .Window }}, " +
				"{{ .Deployment }} and {{ .Environment }} may appear"
		}
	}
	var b strings.Builder
	err = t.Execute(&b, map[string]string{"Namespace": scopeNamespace, "Deployment": "ferry-scope-check-deployment",
		"Track": "stable", "Environment": "ferry-scope-check", "Window": "60s"})
	if err != nil {
		return "is not a valid template: " + err.Error()
	}
	expr, err := metricsql.Parse(b.String())
	if err != nil {
		return "is not valid PromQL: " + err.Error()
	}
	why := ""
	metricsql.VisitAll(expr, func(e metricsql.Expr) {
		m, ok := e.(*metricsql.MetricExpr)
		if !ok || why != "" {
			return
		}
		for _, group := range m.LabelFilterss {
			if !holdsNamespace(group) {
				why = fmt.Sprintf("selects %s without namespace=\"{{ .Namespace }}\": it could read another team's series "+
					"(the server operator may allow this with --analysis-allow-unscoped)", m.AppendString(nil))
				return
			}
		}
	})
	return why
}

// plainNode is text or a lone field reference.
func plainNode(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.TextNode:
		return true
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 || len(n.Pipe.Cmds) != 1 || len(n.Pipe.Cmds[0].Args) != 1 {
			return false
		}
		f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode)
		return ok && len(f.Ident) == 1
	}
	return false
}

func holdsNamespace(filters []metricsql.LabelFilter) bool {
	for _, f := range filters {
		if f.Label == "namespace" && f.Value == scopeNamespace && !f.IsNegative && !f.IsRegexp {
			return true
		}
	}
	return false
}

// scopeProblems checks the analysis queries an environment's file names
// (ferry's default metrics are scoped by construction).
func scopeProblems(name string, r rawEnvironment, o Options) []Problem {
	if o.AllowUnscopedQueries || r.Analysis == nil {
		return nil
	}
	var probs []Problem
	for i, m := range r.Analysis.Metrics {
		at, queries := "query", []string{m.Query}
		if m.Histogram != "" {
			// The queries ferry builds from the histogram and selector.
			h := AnalysisMetric{Histogram: m.Histogram, Selector: m.Selector}
			if h.Selector == "" {
				h.Selector = defaultSelector
			}
			at, queries = "selector", []string{h.BucketsQuery(), h.SlowShareQuery("0.1")}
		}
		for _, q := range queries {
			if why := unscoped(q); why != "" {
				probs = append(probs, Problem{Pointer: fmt.Sprintf("/environments/%s/analysis/metrics/%d/%s", name, i, at),
					Message: "analysis query " + m.Name + " " + why})
				break
			}
		}
	}
	return probs
}
