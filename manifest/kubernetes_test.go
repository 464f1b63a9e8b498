package manifest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ferry-ci/ferry/internal/kubetest"
)

// The two kustomizations: ferry itself, and the Role that lets it deploy
// to one target namespace.
const (
	baseDir    = "kubernetes"
	targetsDir = "kubernetes/targets"
)

// access is one RBAC rule: verbs on a resource of an API group.
type access struct {
	Group, Resource string
	Verbs           []string
}

// deployNeeds is every call internal/kube makes, by resource: what the
// Role in targets/ must grant, exactly. TestManifests_ServiceAccountDeploys
// proves it is enough by running every strategy's steps through the
// adapter as ferry's ServiceAccount.
var deployNeeds = []access{
	{"apps", "deployments", []string{"get", "create", "update"}},
	{"", "services", []string{"get", "update"}},
}

// kustomization is the part of kustomize's format these manifests use;
// anything else fails the test rather than being silently ignored.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName"`
		NewTag  string `json:"newTag"`
	} `json:"images"`
}

// render does what `kustomize build dir` does with these files: the
// resources in order, every object moved to the kustomization's namespace
// (or ns, as an overlay's `namespace` would), images replaced.
func render(t *testing.T, dir, ns string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		t.Fatalf("%s/kustomization.yaml uses more of kustomize than this test renders: %v", dir, err)
	}
	if ns == "" {
		ns = k.Namespace
	}
	var out []*unstructured.Unstructured
	for _, res := range k.Resources {
		for _, obj := range readObjects(t, filepath.Join(dir, res)) {
			obj.SetNamespace(ns)
			setImages(t, obj, k)
			out = append(out, obj)
		}
	}
	return out
}

// readObjects reads the YAML documents of a file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*unstructured.Unstructured
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(raw), -1) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(m) > 0 {
			out = append(out, &unstructured.Unstructured{Object: m})
		}
	}
	return out
}

func setImages(t *testing.T, obj *unstructured.Unstructured, k kustomization) {
	t.Helper()
	containers, found, _ := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "containers")
	if !found {
		return
	}
	for _, c := range containers {
		c := c.(map[string]any)
		name := c["image"].(string)
		if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
			name = name[:i] // the tag, not a registry's port
		}
		for _, img := range k.Images {
			if img.Name == name {
				c["image"] = orDefault(img.NewName, name) + ":" + orDefault(img.NewTag, "latest")
			}
		}
	}
	if err := unstructured.SetNestedSlice(obj.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
}

func orDefault(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// decodeStrict decodes obj into out, refusing fields its Go type does not have:
// a misspelt field fails here, not silently in a cluster.
func decodeStrict(t *testing.T, obj *unstructured.Unstructured, out any) {
	t.Helper()
	b, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		t.Fatalf("%s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
}

// findObject is the rendered object of kind and name.
func findObject(t *testing.T, objs []*unstructured.Unstructured, kind, name string, out any) {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			decodeStrict(t, o, out)
			return
		}
	}
	t.Fatalf("no %s %s rendered", kind, name)
}

func TestManifests_EveryObjectIsKnownAndNamespaced(t *testing.T) {
	types := map[string]func() any{
		"ServiceAccount": func() any { return &corev1.ServiceAccount{} }, "Service": func() any { return &corev1.Service{} },
		"Deployment": func() any { return &appsv1.Deployment{} }, "NetworkPolicy": func() any { return &networkingv1.NetworkPolicy{} },
		"PodDisruptionBudget": func() any { return &policyv1.PodDisruptionBudget{} },
		"Role":                func() any { return &rbacv1.Role{} }, "RoleBinding": func() any { return &rbacv1.RoleBinding{} },
	}
	var kinds []string
	for _, o := range append(render(t, baseDir, ""), render(t, targetsDir, "")...) {
		newType, ok := types[o.GetKind()]
		if !ok { // a ClusterRole, a Namespace, a CRD: none by default
			t.Errorf("%s %s: not a namespaced kind these manifests are meant to hold", o.GetKind(), o.GetName())
			continue
		}
		decodeStrict(t, o, newType())
		kinds = append(kinds, o.GetKind())
	}
	for kind := range types {
		if !slices.Contains(kinds, kind) {
			t.Errorf("no %s rendered", kind)
		}
	}
}

// TestManifests_KustomizeAgrees: kustomize itself (kubectl's, built with
// the test control plane) renders what this test's renderer does.
func TestManifests_KustomizeAgrees(t *testing.T) {
	kubectl := testKubectl(t)
	for _, dir := range []string{baseDir, targetsDir} {
		out, err := exec.Command(kubectl, "kustomize", dir).Output()
		if err != nil {
			t.Fatalf("kubectl kustomize %s: %v", dir, err)
		}
		var got []map[string]any
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(out), -1) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				t.Fatal(err)
			}
			got = append(got, m)
		}
		var want []map[string]any
		for _, o := range render(t, dir, "") {
			want = append(want, o.Object)
		}
		byKindName := func(s []map[string]any) {
			sort.Slice(s, func(i, j int) bool {
				return fmt.Sprint(s[i]["kind"], s[i]["metadata"]) < fmt.Sprint(s[j]["kind"], s[j]["metadata"])
			})
		}
		byKindName(got)
		byKindName(want)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("kustomize build %s differs from the test's rendering (-test +kustomize):\n%s", dir, d)
		}
	}
}

// testKubectl is the kubectl .ci/kube builds beside the control plane
// (the one on PATH may be a dispatcher that downloads).
func testKubectl(t *testing.T) string {
	t.Helper()
	kubetest.Kubeconfig(t) // skips, or fails under CI, without the cluster
	cache := os.Getenv("K8S_PROBE_CACHE")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache", "k8s-probe")
	}
	found, _ := filepath.Glob(filepath.Join(cache, "bin", "k8s-*", "kubectl"))
	if len(found) == 0 {
		t.Fatalf("no kubectl under %s/bin: .ci/kube start builds it with the cluster", cache)
	}
	return found[len(found)-1]
}

func TestManifests_RoleGrantsExactlyWhatDeploysNeed(t *testing.T) {
	var role rbacv1.Role
	findObject(t, render(t, targetsDir, ""), "Role", "ferry-deploy", &role)
	var got []access
	for _, r := range role.Rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			t.Errorf("rule %+v: unexpected resourceNames or nonResourceURLs", r)
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				got = append(got, access{g, res, r.Verbs})
			}
		}
	}
	if d := cmp.Diff(deployNeeds, got); d != "" {
		t.Errorf("the Role's rules differ from what internal/kube calls (-needs +role):\n%s", d)
	}
	var rb rbacv1.RoleBinding
	findObject(t, render(t, targetsDir, ""), "RoleBinding", "ferry-deploy", &rb)
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: "ferry", Namespace: "ferry"}}
	if d := cmp.Diff(want, rb.Subjects); d != "" || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name {
		t.Errorf("RoleBinding binds %+v to %+v; want ferry's ServiceAccount to Role %s: %s", rb.Subjects, rb.RoleRef, role.Name, d)
	}
}

// TestManifests_ReadmeDocumentsEveryPiece: the RBAC table in
// kubernetes/README.md says what the Role grants.
func TestManifests_ReadmeDocumentsEveryPiece(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(baseDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// | `apps` | `deployments` | `get`, `create`, `update` | what uses it |
	// | `""` (core) | `services` | …
	row := regexp.MustCompile("(?m)^\\| `([a-z.]*|\"\")`[^|]*\\| `([a-z/]+)` \\| ((?:`[a-z]+`(?:, )?)+) \\|")
	var got []access
	for _, m := range row.FindAllStringSubmatch(string(raw), -1) {
		verbs := strings.Split(strings.ReplaceAll(m[3], "`", ""), ", ")
		got = append(got, access{strings.Trim(m[1], `"`), m[2], verbs})
	}
	if d := cmp.Diff(deployNeeds, got); d != "" {
		t.Errorf("README's RBAC table differs from the Role (-role +readme):\n%s", d)
	}
	// Every file, by its path in kubernetes/, in the table of pieces.
	files := []string{"kustomization.yaml", "secrets.example.yaml", "targets/kustomization.yaml"}
	for _, dir := range []string{baseDir, targetsDir} {
		var k kustomization
		b, _ := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
		_ = yaml.Unmarshal(b, &k)
		for _, res := range k.Resources {
			rel, _ := filepath.Rel(baseDir, filepath.Join(dir, res))
			files = append(files, filepath.ToSlash(rel))
		}
	}
	for _, f := range files {
		if !strings.Contains(string(raw), "| `"+f+"` |") {
			t.Errorf("README.md does not explain %s in its table of pieces", f)
		}
	}
}
