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
// "in-cluster" the cluster ferry runs in. No rules: anything goes (one
// team's ferry).
type Allow []allowRule

type allowRule struct{ repo, context, namespace policy.Glob }

// ParseAllow reads rules.
func ParseAllow(rules []string) (Allow, error) {
	var out Allow
	for _, r := range rules {
		repo, target, ok := strings.Cut(r, "=")
		ctx, ns, ok2 := strings.Cut(target, "/")
		if !ok || !ok2 || repo == "" || ns == "" {
			return nil, fmt.Errorf("deploy rule %q: want owner/repo=context/namespace (globs allowed)", r)
		}
		out = append(out, allowRule{policy.NewGlob(repo), policy.NewGlob(ctx), policy.NewGlob(ns)})
	}
	return out, nil
}

// Permits reports whether repository may deploy to env's cluster and
// namespace.
func (a Allow) Permits(repository string, env policy.Environment) bool {
	if len(a) == 0 {
		return true
	}
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
