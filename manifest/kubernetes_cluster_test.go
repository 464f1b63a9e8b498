package manifest_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ferry-ci/ferry/internal/kubetest"
)

// installed is ferry installed from the manifests on the test control
// plane: its own namespace, the one target namespace the Role is for, and
// another it has no Role in.
type installed struct {
	cs                   kubernetes.Interface
	ferry, target, other string
}

// installFerry applies the manifests as an operator would — the Secrets, ferry
// itself into a namespace of the test's (an overlay's `namespace`), the
// Role into the target with its subject pointed at that namespace (the
// README's patch) — first as a server-side dry run that must persist
// nothing, then for real. ferry's namespace enforces the restricted Pod
// Security Standard, so its pods exist only if they meet it.
func installFerry(t *testing.T) installed {
	t.Helper()
	cs := fastClient(t)
	in := installed{cs: cs, ferry: kubetest.Namespace(t, cs), target: kubetest.Namespace(t, cs), other: kubetest.Namespace(t, cs)}
	restrict(t, cs, in.ferry)
	objs := append(testSecrets(t, in.ferry), render(t, baseDir, in.ferry)...)
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			forKwok(t, o)
		}
	}
	for _, o := range render(t, targetsDir, in.target) {
		if o.GetKind() == "RoleBinding" {
			subjects, _, _ := unstructured.NestedSlice(o.Object, "subjects")
			subjects[0].(map[string]any)["namespace"] = in.ferry
			_ = unstructured.SetNestedSlice(o.Object, subjects, "subjects")
		}
		objs = append(objs, o)
	}
	a := newApplier(t)
	for _, o := range objs {
		a.apply(t, o, true)
	}
	ctx := context.Background()
	if _, err := cs.AppsV1().Deployments(in.ferry).Get(ctx, "ferry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after the dry run, the Deployment: %v; want not found", err)
	}
	if _, err := cs.RbacV1().RoleBindings(in.target).Get(ctx, "ferry-deploy", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after the dry run, the RoleBinding: %v; want not found", err)
	}
	for _, o := range objs {
		a.apply(t, o, false)
	}
	// The RBAC authorizer learns of the new RoleBinding through a watch: a
	// question asked at once may be answered from before it.
	first := authorizationv1.ResourceAttributes{Namespace: in.target, Verb: "get", Group: "apps", Resource: "deployments"}
	for deadline := time.Now().Add(10 * time.Second); !in.may(t, first); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("ferry's ServiceAccount is still not allowed to get Deployments in the target namespace")
		}
	}
	return in
}

// fastClient is a clientset for the test cluster without client-go's
// default rate limit (5 requests/s): the access matrix asks hundreds of
// questions.
func fastClient(t *testing.T) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubetest.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = 500, 1000
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// restrict makes a namespace enforce the restricted Pod Security Standard.
func restrict(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	ctx := context.Background()
	ns, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels["pod-security.kubernetes.io/enforce"] = "restricted"
	ns.Labels["pod-security.kubernetes.io/enforce-version"] = "latest"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// testSecrets are secrets.example.yaml's two Secrets with working values:
// a real RSA key, a long webhook secret.
func testSecrets(t *testing.T, ns string) []*unstructured.Unstructured {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	hook := make([]byte, 32)
	_, _ = rand.Read(hook)
	values := map[string]map[string]any{
		"ferry-github": {"app-id": "12345", "webhook-secret": hex.EncodeToString(hook), "client-id": "Iv1.test", "client-secret": "test",
			"private-key.pem": string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))},
		"ferry-database": {"url": "postgres://ferry:test@postgres." + ns + ".svc:5432/ferry"},
	}
	objs := readObjects(t, filepath.Join(baseDir, "secrets.example.yaml"))
	for _, o := range objs {
		o.SetNamespace(ns)
		if err := unstructured.SetNestedMap(o.Object, values[o.GetName()], "stringData"); err != nil {
			t.Fatal(err)
		}
	}
	return objs
}

// forKwok adapts the Deployment to the test cluster's fake nodes, as an
// overlay would: they carry a taint real nodes do not, and report no
// ephemeral-storage capacity, so a pod asking for some never schedules.
func forKwok(t *testing.T, d *unstructured.Unstructured) {
	t.Helper()
	tol := []any{map[string]any{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}}
	if err := unstructured.SetNestedSlice(d.Object, tol, "spec", "template", "spec", "tolerations"); err != nil {
		t.Fatal(err)
	}
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		for _, kind := range []string{"requests", "limits"} {
			unstructured.RemoveNestedField(c.(map[string]any), "resources", kind, "ephemeral-storage")
		}
	}
	if err := unstructured.SetNestedSlice(d.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
}

// applier applies any object with server-side apply, as
// `kubectl apply --server-side` does.
type applier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newApplier(t *testing.T) applier {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", kubetest.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		t.Fatal(err)
	}
	return applier{dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

func (a applier) apply(t *testing.T, obj *unstructured.Unstructured, dryRun bool) {
	t.Helper()
	gvk := obj.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s: %v", gvk, err)
	}
	opts := metav1.ApplyOptions{FieldManager: "ferry-test", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	_, err = a.dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Apply(context.Background(), obj.GetName(), obj, opts)
	if err != nil {
		t.Fatalf("apply %s %s/%s (dry run %t): %v", obj.GetKind(), obj.GetNamespace(), obj.GetName(), dryRun, err)
	}
}

// TestManifests_ApplyAndRun: the manifests apply to a real control plane,
// and the Deployment's two pods run (on kwok's nodes) under the restricted
// Pod Security Standard, as ferry's ServiceAccount, behind the Service.
func TestManifests_ApplyAndRun(t *testing.T) {
	in := installFerry(t)
	ctx := context.Background()
	refusedPods(t, in)
	kubetest.WaitReady(t, in.cs, in.ferry, "ferry", 2)
	pods, err := in.cs.CoreV1().Pods(in.ferry).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=ferry"})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("ferry's pods: %d (%v); want 2", len(pods.Items), err)
	}
	for _, p := range pods.Items {
		if p.Spec.ServiceAccountName != "ferry" || !hasTokenVolume(p) {
			t.Errorf("pod %s runs as %q, token mounted %t; want ferry's ServiceAccount with its token", p.Name, p.Spec.ServiceAccountName, hasTokenVolume(p))
		}
	}
	// The namespace does enforce the standard: a privileged pod is refused.
	yes := true
	bad := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "privileged"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Image: "x", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}
	if _, err := in.cs.CoreV1().Pods(in.ferry).Create(ctx, bad, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); !apierrors.IsForbidden(err) {
		t.Errorf("a privileged pod in ferry's namespace: %v; want refused by Pod Security admission", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n := readyEndpoints(t, in.cs, in.ferry, "ferry")
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Service ferry has %d ready endpoints; want 2", n)
		}
	}
}

// refusedPods fails at once, with the reason, when the ReplicaSet cannot
// create ferry's pods (Pod Security admission refuses them), rather than
// after WaitReady's minute.
func refusedPods(t *testing.T, in installed) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		rss, err := in.cs.AppsV1().ReplicaSets(in.ferry).List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=ferry"})
		if err != nil {
			t.Fatal(err)
		}
		for _, rs := range rss.Items {
			if rs.Status.ReadyReplicas == 2 {
				return
			}
			for _, c := range rs.Status.Conditions {
				if c.Type == appsv1.ReplicaSetReplicaFailure && c.Status == corev1.ConditionTrue {
					t.Fatalf("ferry's pods are refused: %s", c.Message)
				}
			}
		}
	}
}

func hasTokenVolume(p corev1.Pod) bool {
	for _, v := range p.Spec.Volumes {
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ServiceAccountToken != nil {
					return true
				}
			}
		}
	}
	return false
}

func readyEndpoints(t *testing.T, cs kubernetes.Interface, ns, service string) int {
	t.Helper()
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=" + service})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range slices.Items {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				n++
			}
		}
	}
	return n
}
