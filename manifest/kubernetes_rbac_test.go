package manifest_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ferry-ci/ferry/internal/kube"
	"github.com/ferry-ci/ferry/internal/kubetest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// may asks the API server (a SubjectAccessReview) whether ferry's
// ServiceAccount may do ra, with the groups a ServiceAccount token carries.
func (in installed) may(t *testing.T, ra authorizationv1.ResourceAttributes) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:               "system:serviceaccount:" + in.ferry + ":ferry",
		Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:" + in.ferry, "system:authenticated"},
		ResourceAttributes: &ra,
	}}
	out, err := in.cs.AuthorizationV1().SubjectAccessReviews().Create(context.Background(), sar, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SubjectAccessReview %+v: %v", ra, err)
	}
	return out.Status.Allowed
}

// probed are the namespaced resources the matrix asks about: what ferry
// uses, and what a deploy agent might be tempted to touch.
var probed = []struct{ group, resource, sub string }{
	{"apps", "deployments", ""}, {"apps", "deployments", "scale"}, {"apps", "deployments", "status"},
	{"apps", "replicasets", ""}, {"apps", "statefulsets", ""}, {"apps", "daemonsets", ""},
	{"", "services", ""}, {"", "services", "status"}, {"", "pods", ""}, {"", "pods", "exec"}, {"", "pods", "log"},
	{"", "pods", "eviction"}, {"", "secrets", ""}, {"", "configmaps", ""}, {"", "serviceaccounts", ""},
	{"", "serviceaccounts", "token"}, {"", "events", ""}, {"events.k8s.io", "events", ""},
	{"coordination.k8s.io", "leases", ""}, {"rbac.authorization.k8s.io", "roles", ""},
	{"rbac.authorization.k8s.io", "rolebindings", ""}, {"networking.k8s.io", "networkpolicies", ""},
	{"policy", "poddisruptionbudgets", ""}, {"batch", "jobs", ""},
}

var probedVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// needed reports whether a deploy needs verb on a resource.
func needed(group, resource, sub, verb string) bool {
	for _, a := range deployNeeds {
		if a.Group == group && a.Resource == resource && sub == "" && slices.Contains(a.Verbs, verb) {
			return true
		}
	}
	return false
}

// TestManifests_ServiceAccountMayDoExactlyWhatDeploysNeed: in the target
// namespace ferry may do what internal/kube calls and nothing else; in
// another namespace, and in its own, nothing at all; cluster-wide nothing.
func TestManifests_ServiceAccountMayDoExactlyWhatDeploysNeed(t *testing.T) {
	in := installFerry(t)
	for _, ns := range []string{in.target, in.other, in.ferry} {
		for _, p := range probed {
			for _, verb := range probedVerbs {
				want := ns == in.target && needed(p.group, p.resource, p.sub, verb)
				ra := authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: p.group, Resource: p.resource, Subresource: p.sub}
				if got := in.may(t, ra); got != want {
					t.Errorf("%s %s.%s/%s in %s: allowed %t, want %t", verb, p.resource, p.group, p.sub, ns, got, want)
				}
			}
		}
	}
	never := []authorizationv1.ResourceAttributes{
		{Verb: "delete", Resource: "namespaces", Name: in.target}, {Verb: "create", Resource: "namespaces"},
		{Verb: "list", Resource: "namespaces"}, {Verb: "list", Resource: "nodes"},
		{Verb: "create", Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings"},
		{Verb: "bind", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
		{Verb: "escalate", Group: "rbac.authorization.k8s.io", Resource: "roles", Namespace: in.target},
		{Verb: "impersonate", Resource: "serviceaccounts", Namespace: in.target},
		{Verb: "create", Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"},
		{Verb: "list", Resource: "secrets"}, {Verb: "list", Group: "apps", Resource: "deployments"},
	}
	for _, ra := range never {
		if in.may(t, ra) {
			t.Errorf("%s %s.%s (namespace %q): allowed; ferry must never", ra.Verb, ra.Resource, ra.Group, ra.Namespace)
		}
	}
}

// connectAsFerry is ferry's Kubernetes adapter authenticated with a token
// of ferry's ServiceAccount, as in its pod.
func connectAsFerry(t *testing.T, in installed) *kube.Cluster {
	t.Helper()
	expiry := int64(600)
	tok, err := in.cs.CoreV1().ServiceAccounts(in.ferry).CreateToken(context.Background(), "ferry",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token for ferry's ServiceAccount: %v", err)
	}
	admin, err := clientcmd.LoadFromFile(kubetest.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	cluster := admin.Clusters[admin.Contexts[admin.CurrentContext].Cluster]
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = cluster
	cfg.AuthInfos["ferry"] = &clientcmdapi.AuthInfo{Token: tok.Status.Token}
	cfg.Contexts["ferry"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "ferry"}
	cfg.CurrentContext = "ferry"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	c, err := kube.Connect(kube.Config{Kubeconfig: path})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runSteps applies steps as the deploy agent does; a wait reads the status.
func runSteps(t *testing.T, c *kube.Cluster, ns string, steps []rollout.Step) {
	t.Helper()
	ctx := context.Background()
	for _, s := range steps {
		var err error
		if s.Kind == rollout.WaitRollout {
			_, err = c.Status(ctx, ns, s.Deployment)
		} else {
			err = c.Apply(ctx, ns, s)
		}
		if err != nil {
			t.Fatalf("%s (%s): %v", s.Kind, s.Note, err)
		}
	}
}

// TestManifests_ServiceAccountDeploys: ferry's own adapter, signed in as
// the ServiceAccount, carries out every strategy's steps and a rollback
// in the target namespace — so the Role is enough — and is refused in
// another namespace.
func TestManifests_ServiceAccountDeploys(t *testing.T) {
	in := installFerry(t)
	ctx := context.Background()
	kubetest.App(t, in.cs, in.target, "web", "example/web:1", 2)
	kubetest.App(t, in.cs, in.other, "web", "example/web:1", 2)
	c := connectAsFerry(t, in)
	env := policy.Environment{Name: "production", Namespace: in.target, Workloads: []policy.Workload{{Name: "web", Container: "app"}},
		Service: "web", CanarySteps: []int{50, 100}, Analysis: &policy.Analysis{Baseline: true}}
	cur, known, err := c.Current(ctx, in.target, env.Workloads, env.Service)
	if err != nil {
		t.Fatalf("current: %v", err)
	}
	for i, strategy := range []policy.Strategy{policy.Canary, policy.BlueGreen, policy.Hotfix, policy.Rolling} {
		runSteps(t, c, in.target, rollout.Plan(strategy, env, "example/web:"+string(rune('2'+i)), cur))
		if cur, _, err = c.Current(ctx, in.target, env.Workloads, env.Service); err != nil {
			t.Fatalf("current after %s: %v", strategy, err)
		}
	}
	runSteps(t, c, in.target, rollout.RollbackPlan(env, known, cur))
	if img, err := c.ImageOf(ctx, in.target, "web", "app"); err != nil || img != "example/web:1" {
		t.Errorf("after the rollback web runs %q (%v); want example/web:1", img, err)
	}
	for _, ns := range []string{in.other, in.ferry} {
		_, _, err := c.Current(ctx, ns, env.Workloads, env.Service)
		setImage := rollout.Step{Kind: rollout.SetImage, Deployment: "web", Container: "app", Image: "example/web:9"}
		if !apierrors.IsForbidden(err) || !apierrors.IsForbidden(c.Apply(ctx, ns, setImage)) {
			t.Errorf("reading or changing a Deployment in %s: %v; want forbidden", ns, err)
		}
	}
}
