// Package kube is ferry's Kubernetes adapter (client-go): it applies the
// steps the rollout package plans and reports what Kubernetes says of a
// rollout. Every action is idempotent — applying a step twice leaves the
// cluster as applying it once — so a retried job cannot do harm.
package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"

	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// Config says which cluster.
type Config struct {
	Kubeconfig string // "" = the usual rules ($KUBECONFIG, ~/.kube/config)
	Context    string // "" = the current one
	InCluster  bool
}

// Cluster is one cluster.
type Cluster struct{ cs kubernetes.Interface }

// Connect builds a client.
func Connect(cfg Config) (*Cluster, error) {
	var rc *rest.Config
	var err error
	if cfg.InCluster {
		rc, err = rest.InClusterConfig()
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if cfg.Kubeconfig != "" {
			rules.ExplicitPath = cfg.Kubeconfig
		}
		rc, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
			&clientcmd.ConfigOverrides{CurrentContext: cfg.Context}).ClientConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes client config (context %q): %w", cfg.Context, err)
	}
	rc.UserAgent = "ferry"
	// client-go's default (5 requests/s) made each step wait ~200 ms for
	// its token; ferry's requests are few and bursty.
	rc.QPS, rc.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Cluster{cs: cs}, nil
}

// ErrNotFound is a Deployment or Service that does not exist.
var ErrNotFound = errors.New("not found")

func (c *Cluster) deployment(ctx context.Context, ns, name string) (*appsv1.Deployment, error) {
	d, err := c.cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("deployment %s/%s: %w", ns, name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get deployment %s/%s: %w", ns, name, err)
	}
	return d, nil
}

// Current reads what the environment's Deployments run: replicas and
// images, and the colour its Service selects.
func (c *Cluster) Current(ctx context.Context, ns string, workloads []policy.Workload, service string) (rollout.Current, rollout.Known, error) {
	cur := rollout.Current{Replicas: map[string]int32{}}
	known := rollout.Known{Images: map[string]string{}}
	for _, w := range workloads {
		d, err := c.deployment(ctx, ns, w.Name)
		if err != nil {
			return cur, known, err
		}
		cur.Replicas[w.Name] = replicas(d)
		i := containerIndex(d, w.Container)
		if i < 0 {
			return cur, known, fmt.Errorf("deployment %s/%s has no container %q", ns, w.Name, w.Container)
		}
		known.Images[w.Name] = d.Spec.Template.Spec.Containers[i].Image // the container a rollback sets
		for _, name := range []string{rollout.CanaryName(w.Name), rollout.BaselineName(w.Name)} {
			if cd, err := c.deployment(ctx, ns, name); err == nil {
				cur.Replicas[name] = replicas(cd)
			}
		}
	}
	if service != "" {
		svc, err := c.cs.CoreV1().Services(ns).Get(ctx, service, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return cur, known, fmt.Errorf("get service %s/%s: %w", ns, service, err)
		}
		if err == nil {
			cur.ActiveColour = svc.Spec.Selector[rollout.TrackLabel]
		}
	}
	known.ActiveColour = cur.ActiveColour
	return cur, known, nil
}

// ImageOf is the image of a Deployment's container ("" = the first).
func (c *Cluster) ImageOf(ctx context.Context, ns, name, container string) (string, error) {
	d, err := c.deployment(ctx, ns, name)
	if err != nil {
		return "", err
	}
	i := containerIndex(d, container)
	if i < 0 {
		return "", fmt.Errorf("deployment %s/%s has no container %q", ns, name, container)
	}
	return d.Spec.Template.Spec.Containers[i].Image, nil
}

func replicas(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

func containerIndex(d *appsv1.Deployment, name string) int {
	for i, ct := range d.Spec.Template.Spec.Containers {
		if name == "" || ct.Name == name {
			return i
		}
	}
	return -1
}

// Apply carries out one step; steps that only wait do nothing here.
func (c *Cluster) Apply(ctx context.Context, ns string, s rollout.Step) error {
	switch s.Kind {
	case rollout.SetImage:
		return c.update(ctx, ns, s.Deployment, func(d *appsv1.Deployment) error { return setImage(d, s) })
	case rollout.EnsureCopy:
		return c.ensureCopy(ctx, ns, s)
	case rollout.Scale:
		err := c.update(ctx, ns, s.Deployment, func(d *appsv1.Deployment) error {
			d.Spec.Replicas = &s.Replicas
			return nil
		})
		if errors.Is(err, ErrNotFound) && s.Replicas == 0 {
			return nil // nothing to retire
		}
		return err
	case rollout.SwitchService:
		return c.switchService(ctx, ns, s.Service, s.Track)
	case rollout.WaitRollout, rollout.Pause, rollout.Analyze:
	}
	return nil
}

// update reads, changes and writes a Deployment, again on a conflict.
func (c *Cluster) update(ctx context.Context, ns, name string, change func(*appsv1.Deployment) error) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := c.deployment(ctx, ns, name)
		if err != nil {
			return err
		}
		before := d.DeepCopy()
		if err := change(d); err != nil {
			return err
		}
		if equalSpec(before, d) {
			return nil // already so: a retry changes nothing
		}
		_, err = c.cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{FieldManager: "ferry"})
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("update deployment %s/%s: %w", ns, name, err)
		}
		return err
	})
}

func setImage(d *appsv1.Deployment, s rollout.Step) error {
	i := containerIndex(d, s.Container)
	if i < 0 {
		return fmt.Errorf("deployment %s has no container %q", d.Name, s.Container)
	}
	d.Spec.Template.Spec.Containers[i].Image = s.Image
	before, hot := d.Annotations[hotfixAnnotation]
	switch {
	case s.Surge && !hot:
		// A hotfix replaces every pod at once, never with fewer serving;
		// the strategy it replaces is kept to put back afterwards.
		b, err := json.Marshal(d.Spec.Strategy)
		if err != nil {
			return err
		}
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[hotfixAnnotation] = string(b)
		all, none := intstr.FromString("100%"), intstr.FromInt32(0)
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &all, MaxUnavailable: &none}}
	case !s.Surge && hot:
		var prev appsv1.DeploymentStrategy
		if err := json.Unmarshal([]byte(before), &prev); err == nil {
			d.Spec.Strategy = prev
		}
		delete(d.Annotations, hotfixAnnotation)
	}
	return nil
}

// hotfixAnnotation keeps the strategy a hotfix replaced.
const hotfixAnnotation = "ferry.dev/strategy-before-hotfix"

// ensureCopy makes (or updates) a Deployment beside Source: the same pod
// template with Image, Replicas, and the track label on its selector and
// pods, so the two never claim each other's pods.
func (c *Cluster) ensureCopy(ctx context.Context, ns string, s rollout.Step) error {
	src, err := c.deployment(ctx, ns, s.Source)
	if err != nil {
		return err
	}
	want := src.DeepCopy()
	want.ObjectMeta = metav1.ObjectMeta{Name: s.Deployment, Namespace: ns,
		Labels:      merge(src.Labels, map[string]string{rollout.TrackLabel: s.Track, "app.kubernetes.io/managed-by": "ferry"}),
		Annotations: map[string]string{"ferry.dev/source": s.Source}}
	want.Status = appsv1.DeploymentStatus{}
	want.Spec.Replicas = &s.Replicas
	want.Spec.Selector = &metav1.LabelSelector{MatchLabels: merge(src.Spec.Selector.MatchLabels, map[string]string{rollout.TrackLabel: s.Track})}
	want.Spec.Template.Labels = merge(src.Spec.Template.Labels, map[string]string{rollout.TrackLabel: s.Track})
	if s.Image != "" { // none: the source's own (a baseline)
		if err := setImage(want, s); err != nil {
			return err
		}
	}
	_, err = c.cs.AppsV1().Deployments(ns).Create(ctx, want, metav1.CreateOptions{FieldManager: "ferry"})
	if !apierrors.IsAlreadyExists(err) {
		if err != nil {
			return fmt.Errorf("create deployment %s/%s: %w", ns, s.Deployment, err)
		}
		return nil
	}
	return c.update(ctx, ns, s.Deployment, func(d *appsv1.Deployment) error {
		d.Spec.Replicas = &s.Replicas
		d.Spec.Template = want.Spec.Template // selector is immutable and already the same
		return nil
	})
}

func (c *Cluster) switchService(ctx context.Context, ns, name, track string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		svc, err := c.cs.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("service %s/%s: %w", ns, name, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("get service %s/%s: %w", ns, name, err)
		}
		if svc.Spec.Selector[rollout.TrackLabel] == track {
			return nil
		}
		sel := maps.Clone(svc.Spec.Selector)
		if len(sel) == 0 {
			// A Service without a selector routes to what someone else
			// manages: switching it would be a guess.
			return fmt.Errorf("service %s/%s has no selector to switch", ns, name)
		}
		delete(sel, rollout.TrackLabel)
		if track != "" {
			sel[rollout.TrackLabel] = track
		}
		svc.Spec.Selector = sel
		_, err = c.cs.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{FieldManager: "ferry"})
		if err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("update service %s/%s: %w", ns, name, err)
		}
		return err
	})
}

// Status reports a Deployment's rollout.
func (c *Cluster) Status(ctx context.Context, ns, name string) (rollout.Status, error) {
	d, err := c.deployment(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return rollout.Status{}, nil
	}
	if err != nil {
		return rollout.Status{}, err
	}
	st := rollout.Status{Found: true, Generation: d.Generation, ObservedGeneration: d.Status.ObservedGeneration,
		Desired: replicas(d), Total: d.Status.Replicas, Updated: d.Status.UpdatedReplicas, Ready: d.Status.ReadyReplicas,
		Available: d.Status.AvailableReplicas}
	for _, cond := range d.Status.Conditions {
		if cond.Type == appsv1.DeploymentProgressing {
			st.Message = cond.Message
			st.DeadlineExceeded = cond.Status == corev1.ConditionFalse && cond.Reason == "ProgressDeadlineExceeded"
		}
	}
	return st, nil
}

func merge(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

func equalSpec(a, b *appsv1.Deployment) bool {
	return equality.Semantic.DeepEqual(a.Spec, b.Spec) && equality.Semantic.DeepEqual(a.Annotations, b.Annotations)
}
