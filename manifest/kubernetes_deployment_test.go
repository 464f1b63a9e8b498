package manifest_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// ferryPod is the rendered Deployment and its one container.
func ferryPod(t *testing.T) (*appsv1.Deployment, corev1.Container) {
	t.Helper()
	var d appsv1.Deployment
	findObject(t, render(t, baseDir, ""), "Deployment", "ferry", &d)
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("%d containers; want ferry's one", n)
	}
	return &d, d.Spec.Template.Spec.Containers[0]
}

func containerPort(t *testing.T, c corev1.Container, name string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s has no port %q", c.Name, name)
	return 0
}

func envValue(c corev1.Container, name string) (corev1.EnvVar, bool) {
	i := slices.IndexFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == name })
	if i < 0 {
		return corev1.EnvVar{}, false
	}
	return c.Env[i], true
}

func TestManifests_DeploymentIsHardened(t *testing.T) {
	d, c := ferryPod(t)
	pod := d.Spec.Template.Spec
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v; want 2", d.Spec.Replicas)
	}
	sc := pod.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.SeccompProfile == nil ||
		sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want runAsNonRoot and the RuntimeDefault seccomp profile", sc)
	}
	// The user the image declares (Dockerfile USER uid:gid), so files the
	// image made for it stay its own.
	dockerfile, err := os.ReadFile(filepath.Join("..", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	user := regexp.MustCompile(`(?m)^USER (\d+):(\d+)`).FindStringSubmatch(string(dockerfile))
	if user == nil || sc == nil || sc.RunAsUser == nil || strconv.FormatInt(*sc.RunAsUser, 10) != user[1] ||
		sc.RunAsGroup == nil || strconv.FormatInt(*sc.RunAsGroup, 10) != user[2] {
		t.Errorf("runAsUser/runAsGroup %+v; want the Dockerfile's USER %v", sc, user)
	}
	csc := c.SecurityContext
	if csc == nil || csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem || csc.AllowPrivilegeEscalation == nil ||
		*csc.AllowPrivilegeEscalation || csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []corev1.Capability{"ALL"}) {
		t.Errorf("container securityContext %+v: want a read-only root filesystem, no privilege escalation, every capability dropped", csc)
	}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
		if req.IsZero() || lim.IsZero() || req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s, limit %s; want both, request ≤ limit", r, req.String(), lim.String())
		}
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable == nil ||
		d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v: want maxUnavailable 0", d.Spec.Strategy)
	}
	if pod.TerminationGracePeriodSeconds == nil || *pod.TerminationGracePeriodSeconds <= 35 {
		t.Errorf("terminationGracePeriodSeconds %v: want more than FERRY_SHUTDOWN_TIMEOUT (30s) and the preStop pause", pod.TerminationGracePeriodSeconds)
	}
}

// ferryEnvNames are the environment variables ferry reads (kong's env
// tags in cmd/ferry).
func ferryEnvNames(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "cmd", "ferry", "*.go"))
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`env:"(FERRY_[A-Z_]+)"`).FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) == 0 {
		t.Fatal("found no env tags in cmd/ferry")
	}
	return out
}

func TestManifests_EnvAndProbesMatchFerrysFlags(t *testing.T) {
	d, c := ferryPod(t)
	known := ferryEnvNames(t)
	for _, e := range c.Env {
		if !slices.Contains(known, e.Name) {
			t.Errorf("env %s: ferry reads no such variable", e.Name)
		}
	}
	webhook, admin := containerPort(t, c, "webhook"), containerPort(t, c, "admin")
	if webhook == admin {
		t.Fatalf("the admin port is the webhook port (%d)", admin)
	}
	for name, port := range map[string]int32{"FERRY_LISTEN": webhook, "FERRY_ADMIN_LISTEN": admin} {
		e, _ := envValue(c, name)
		if _, p, err := net.SplitHostPort(e.Value); err != nil || p != strconv.Itoa(int(port)) {
			t.Errorf("%s=%q; want port %d", name, e.Value, port)
		}
	}
	for probe, path := range map[*corev1.Probe]string{c.LivenessProbe: "/healthz", c.ReadinessProbe: "/readyz", c.StartupProbe: "/healthz"} {
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != path || probe.HTTPGet.Port.String() != "admin" {
			t.Errorf("probe %+v; want GET %s on the admin port", probe, path)
		}
	}
	want := map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": strconv.Itoa(int(admin)), "prometheus.io/path": "/metrics"}
	for k, v := range want {
		if got := d.Spec.Template.Annotations[k]; got != v {
			t.Errorf("pod annotation %s=%q; want %q", k, got, v)
		}
	}
	for _, name := range []string{"ferry", "ferry-admin"} {
		var svc corev1.Service
		findObject(t, render(t, baseDir, ""), "Service", name, &svc)
		for _, p := range svc.Spec.Ports {
			containerPort(t, c, p.TargetPort.String()) // a named port of ferry's
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Service %s does not select ferry's pods", name)
		}
	}
}

// TestManifests_SecretsAndWritablePaths: every Secret key the Deployment
// reads is one secrets.example.yaml shows (and `ferry setup` writes);
// every file ferry reads or writes is on a volume, since the root
// filesystem is read-only.
func TestManifests_SecretsAndWritablePaths(t *testing.T) {
	d, c := ferryPod(t)
	keys := map[string][]string{}
	for _, o := range readObjects(t, filepath.Join(baseDir, "secrets.example.yaml")) {
		var s corev1.Secret
		decodeStrict(t, o, &s)
		for k := range s.StringData {
			keys[s.Name] = append(keys[s.Name], k)
		}
	}
	for _, e := range c.Env {
		if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && !slices.Contains(keys[ref.SecretKeyRef.Name], ref.SecretKeyRef.Key) {
			t.Errorf("env %s reads %s/%s, which secrets.example.yaml lacks", e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
		}
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range d.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	mountOf := func(path string) (corev1.VolumeMount, bool) {
		for _, m := range c.VolumeMounts {
			if path == m.MountPath || strings.HasPrefix(path, m.MountPath+"/") {
				return m, true
			}
		}
		return corev1.VolumeMount{}, false
	}
	for _, name := range []string{"FERRY_GITHUB_PRIVATE_KEY_FILE", "FERRY_WEBHOOK_SECRET_FILE"} {
		e, _ := envValue(c, name)
		m, ok := mountOf(e.Value)
		v := volumes[m.Name]
		if !ok || v.Secret == nil || !slices.Contains(keys[v.Secret.SecretName], filepath.Base(e.Value)) {
			t.Errorf("%s=%s: not a key of a mounted Secret that secrets.example.yaml shows", name, e.Value)
		}
	}
	cache, _ := envValue(c, "FERRY_GIT_CACHE_DIR")
	for _, path := range []string{cache.Value, "/tmp"} {
		m, ok := mountOf(path)
		if !ok || m.ReadOnly || volumes[m.Name].EmptyDir == nil || volumes[m.Name].EmptyDir.SizeLimit == nil {
			t.Errorf("%q: want a writable emptyDir with a size limit", path)
		}
	}
}

func TestManifests_DisruptionBudgetAndNetworkPolicy(t *testing.T) {
	d, c := ferryPod(t)
	pods := labels.Set(d.Spec.Template.Labels)
	objs := render(t, baseDir, "")
	var pdb policyv1.PodDisruptionBudget
	findObject(t, objs, "PodDisruptionBudget", "ferry", &pdb)
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil || !sel.Matches(pods) || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 {
		t.Errorf("PodDisruptionBudget %+v: want minAvailable 1 of ferry's pods (%v)", pdb.Spec, err)
	}
	var np networkingv1.NetworkPolicy
	findObject(t, objs, "NetworkPolicy", "ferry", &np)
	sel, err = metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || !sel.Matches(pods) || !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{"Ingress", "Egress"}) {
		t.Errorf("NetworkPolicy selects %v for %v; want ferry's pods, ingress and egress", np.Spec.PodSelector, np.Spec.PolicyTypes)
	}
	webhook, admin := containerPort(t, c, "webhook"), containerPort(t, c, "admin")
	ingress := map[int32][]networkingv1.NetworkPolicyPeer{}
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			ingress[p.Port.IntVal] = r.From
		}
	}
	if from, ok := ingress[webhook]; !ok || len(from) != 0 {
		t.Errorf("webhook port %d: want open to every source, got %v (%v)", webhook, from, ok)
	}
	if from := ingress[admin]; len(from) != 1 || from[0].NamespaceSelector == nil ||
		from[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" {
		t.Errorf("admin port %d: want only the monitoring namespace, got %v", admin, from)
	}
	if len(ingress) != 2 {
		t.Errorf("ingress ports %v; want only webhook %d and admin %d", ingress, webhook, admin)
	}
	var egress []int32
	for _, r := range np.Spec.Egress {
		for _, p := range r.Ports {
			egress = append(egress, p.Port.IntVal)
		}
	}
	slices.Sort(egress)
	if want := []int32{53, 53, 443, 5432, 6443, 9090}; !slices.Equal(egress, want) {
		t.Errorf("egress ports %v; want DNS, HTTPS, PostgreSQL, the API server, Prometheus: %v", egress, want)
	}
}
