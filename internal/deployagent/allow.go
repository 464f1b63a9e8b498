package deployagent

import (
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/policy"
)

// Allow says which repositories may deploy where: one installed
// repository's policy must not be able to name another team's cluster or
// namespace. Each rule is "owner/repo=context/namespace" with * globs
// ("acme/*=prod/acme-*"); an empty context is the kubeconfig's current one,
// "in-cluster" the cluster ferry runs in; a target "*" is any cluster and
// namespace ("*=*" allows everything). No rules: no deploys at all — a
// capability that can hurt is off until an operator says where it may act.
type Allow []allowRule

type allowRule struct{ repo, context, namespace policy.Glob }

// ParseAllow reads rules.
func ParseAllow(rules []string) (Allow, error) {
	var out Allow
	for _, r := range rules {
		repo, target, ok := strings.Cut(r, "=")
		if target == "*" {
			target = "*/*"
		}
		if repo == "*" {
			repo = "*/*" // any owner's any repository: a glob's * stops at a slash
		}
		ctx, ns, ok2 := strings.Cut(target, "/")
		if !ok || !ok2 || repo == "" || ns == "" {
			return nil, fmt.Errorf("deploy rule %q: want owner/repo=context/namespace (globs allowed; '*=*' allows everything)", r)
		}
		out = append(out, allowRule{policy.NewGlob(repo), policy.NewGlob(ctx), policy.NewGlob(ns)})
	}
	return out, nil
}

// Permits reports whether repository may deploy to env's cluster and
// namespace.
func (a Allow) Permits(repository string, env policy.Environment) bool {
	ctx := env.Context
	if env.InCluster {
		ctx = "in-cluster"
	}
	for _, r := range a {
		if r.repo.Match(repository) && (r.context.Pattern == ctx || r.context.Match(ctx)) && r.namespace.Match(env.Namespace) {
			return true
		}
	}
	return false
}

// Target names an environment's cluster and namespace as rules do, for logs
// and the audit trail (never for a pull request: it is the operator's).
func Target(env policy.Environment) string {
	ctx := env.Context
	if env.InCluster {
		ctx = "in-cluster"
	}
	return ctx + "/" + env.Namespace
}
