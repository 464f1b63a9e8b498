// Package rollout decides how a commit reaches an environment: which
// strategy (from the risk route and the policy), the steps of that
// strategy, and whether a step has settled given what Kubernetes reports.
// Pure: the kube adapter applies steps, the deploy agent records them.
package rollout

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/policy"
)

// Choice is a strategy and why.
type Choice struct {
	Strategy policy.Strategy
	Reasons  []string
}

// Choose picks the strategy: a hotfix when asked and allowed; else what
// the policy forces; else what the risk route proposes, if allowed; else
// the safest allowed one.
func Choose(proposed policy.Strategy, env policy.Environment, hotfix bool) (Choice, error) {
	switch {
	case hotfix && !env.Allows(policy.Hotfix):
		return Choice{}, fmt.Errorf("hotfix deploys are not allowed in %s (policy: strategies)", env.Name)
	case hotfix:
		return Choice{policy.Hotfix, []string{"requested as a hotfix; " + env.Name + " allows it"}}, nil
	case env.Strategy != "":
		return Choice{env.Strategy, []string{fmt.Sprintf("policy sets %s for %s", env.Strategy, env.Name)}}, nil
	case proposed != "" && env.Allows(proposed):
		return Choice{proposed, []string{fmt.Sprintf("the risk route proposes %s", proposed)}}, nil
	}
	for _, s := range []policy.Strategy{policy.Canary, policy.BlueGreen, policy.Rolling} { // safest first
		if env.Allows(s) {
			why := "the safest strategy " + env.Name + " allows"
			if proposed != "" {
				why = fmt.Sprintf("%s is not allowed in %s; %s is the safest it allows", proposed, env.Name, s)
			}
			return Choice{s, []string{why}}, nil
		}
	}
	return Choice{}, fmt.Errorf("%s allows no strategy ferry knows", env.Name)
}

// StepKind is what a step does.
type StepKind string

// Kinds of steps.
const (
	SetImage      StepKind = "set-image"      // Deployment's Container gets Image (Surge: hotfix)
	WaitRollout   StepKind = "wait-rollout"   // until the Deployment has rolled out, or its deadline passed
	EnsureCopy    StepKind = "ensure-copy"    // Deployment is a copy of Source with Image, Replicas, Track
	Scale         StepKind = "scale"          // Deployment to Replicas
	Pause         StepKind = "pause"          // wait Pause
	Analyze       StepKind = "analyze"        // hold Pause while the metrics are judged every interval
	SwitchService StepKind = "switch-service" // Service selects Track ("" = every track)
)

// TrackLabel marks the pods of a copy (canary, blue, green).
const TrackLabel = "ferry.dev/track"

// Step is one action of a deploy.
type Step struct {
	Kind       StepKind      `json:"kind"`
	Deployment string        `json:"deployment,omitempty"`
	Source     string        `json:"source,omitempty"`
	Container  string        `json:"container,omitempty"`
	Image      string        `json:"image,omitempty"`
	Replicas   int32         `json:"replicas,omitempty"`
	Track      string        `json:"track,omitempty"`
	Surge      bool          `json:"surge,omitempty"`
	Service    string        `json:"service,omitempty"`
	Pause      time.Duration `json:"pause,omitempty"`
	Note       string        `json:"note"`
}

// Current is what the cluster runs, read before planning.
type Current struct {
	Replicas     map[string]int32 // by Deployment
	ActiveColour string           // blue, green, or "" (the original Deployment)
}

// Plan is the steps of a strategy.
func Plan(strategy policy.Strategy, env policy.Environment, image string, cur Current) []Step {
	var steps []Step
	switch strategy {
	case policy.Canary:
		steps = canary(env, image, cur)
	case policy.BlueGreen:
		steps = blueGreen(env, image, cur)
	case policy.Rolling, policy.Hotfix, policy.Rollback:
		for _, w := range env.Workloads {
			steps = append(steps,
				Step{Kind: SetImage, Deployment: w.Name, Container: w.Container, Image: image, Surge: strategy == policy.Hotfix,
					Note: fmt.Sprintf("%s: image %s", w.Name, image)},
				Step{Kind: WaitRollout, Deployment: w.Name, Note: "wait for " + w.Name + " to roll out"})
		}
	}
	if strategy != policy.Canary || !withBaseline(env) {
		// A baseline an earlier deploy left (the policy changed, or it
		// gave up) would keep serving the old version.
		for _, w := range env.Workloads {
			if cur.Replicas[BaselineName(w.Name)] > 0 {
				steps = append(steps, Step{Kind: Scale, Deployment: BaselineName(w.Name), Replicas: 0, Note: "retire a leftover baseline"})
			}
		}
	}
	if env.Analysis != nil && env.Analysis.Watch > 0 {
		// Watched after it is all out, too: what every pod now runs.
		steps = append(steps, Step{Kind: Analyze, Track: "stable", Pause: env.Analysis.Watch,
			Note: fmt.Sprintf("watch the metrics for %s after the rollout", env.Analysis.Watch)})
	}
	return steps
}

// CanaryName is the Deployment beside name that runs the canary.
func CanaryName(name string) string { return name + "-canary" }

// BaselineName is the Deployment beside name that runs the current
// version at the canary's size, for the canary to be compared with.
func BaselineName(name string) string { return name + "-baseline" }

// withBaseline: the analysis compares the canary with a baseline.
func withBaseline(env policy.Environment) bool { return env.Analysis != nil && env.Analysis.Baseline }

func canary(env policy.Environment, image string, cur Current) []Step {
	var steps []Step
	for _, pct := range env.CanarySteps {
		if pct == 100 {
			break
		}
		for _, w := range env.Workloads {
			n := cur.Replicas[w.Name]
			c := max(1, int32(math.Ceil(float64(n)*float64(pct)/100)))
			steps = append(steps,
				Step{Kind: EnsureCopy, Deployment: CanaryName(w.Name), Source: w.Name, Container: w.Container, Image: image,
					Replicas: c, Track: "canary", Note: fmt.Sprintf("canary %d%%: %d of %d pods of %s run %s", pct, c, n, w.Name, image)},
				Step{Kind: WaitRollout, Deployment: CanaryName(w.Name), Note: fmt.Sprintf("wait for the %d%% canary", pct)})
			if withBaseline(env) {
				// The current version, fresh pods at the same size: what
				// the canary is compared with. No image: the source's.
				steps = append(steps,
					Step{Kind: EnsureCopy, Deployment: BaselineName(w.Name), Source: w.Name, Container: w.Container, Replicas: c,
						Track: "baseline", Note: fmt.Sprintf("baseline: %d pods of %s run its current version beside the canary", c, w.Name)},
					Step{Kind: WaitRollout, Deployment: BaselineName(w.Name), Note: "wait for the baseline"})
			}
		}
		switch {
		case env.Analysis != nil:
			steps = append(steps, Step{Kind: Analyze, Track: "canary", Pause: env.CanaryPause,
				Note: fmt.Sprintf("watch the %d%% canary's metrics for %s", pct, env.CanaryPause)})
		case env.CanaryPause > 0:
			steps = append(steps, Step{Kind: Pause, Pause: env.CanaryPause, Note: fmt.Sprintf("hold at %d%% for %s", pct, env.CanaryPause)})
		}
	}
	for _, w := range env.Workloads {
		if withBaseline(env) {
			// Retired before the promotion: it must never copy the new version.
			steps = append(steps, Step{Kind: Scale, Deployment: BaselineName(w.Name), Replicas: 0, Note: "retire the baseline"})
		}
		steps = append(steps,
			Step{Kind: SetImage, Deployment: w.Name, Container: w.Container, Image: image, Note: "100%: " + w.Name + " runs " + image},
			Step{Kind: WaitRollout, Deployment: w.Name, Note: "wait for " + w.Name + " to roll out"},
			Step{Kind: Scale, Deployment: CanaryName(w.Name), Replicas: 0, Note: "retire the canary"})
	}
	return steps
}

// Other is the colour blue-green deploys to next.
func Other(active string) string {
	if active == "green" {
		return "blue"
	}
	return "green"
}

func blueGreen(env policy.Environment, image string, cur Current) []Step {
	colour := Other(cur.ActiveColour)
	var steps []Step
	for _, w := range env.Workloads {
		name := w.Name + "-" + colour
		steps = append(steps,
			Step{Kind: EnsureCopy, Deployment: name, Source: w.Name, Container: w.Container, Image: image,
				Replicas: max(1, cur.Replicas[w.Name]), Track: colour, Note: fmt.Sprintf("%s at full size runs %s", name, image)},
			Step{Kind: WaitRollout, Deployment: name, Note: "wait for " + name + " to be ready"})
	}
	return append(steps, Step{Kind: SwitchService, Service: env.Service, Track: colour,
		Note: fmt.Sprintf("switch %s to %s (%s stays for a fast rollback)", env.Service, colour, orOriginal(cur.ActiveColour))})
}

func orOriginal(colour string) string {
	if colour == "" {
		return "the original"
	}
	return colour
}

// Known is what ran before a deploy, kept by ferry so a rollback can
// restore it without trusting Kubernetes' revision history.
type Known struct {
	Images       map[string]string `json:"images"` // Deployment → image
	ActiveColour string            `json:"active_colour"`
}

// RollbackPlan restores what was known good: the images, the colour the
// Service selected, and no canary.
func RollbackPlan(env policy.Environment, good Known, cur Current) []Step {
	var steps []Step
	if env.Service != "" && cur.ActiveColour != good.ActiveColour {
		steps = append(steps, Step{Kind: SwitchService, Service: env.Service, Track: good.ActiveColour,
			Note: fmt.Sprintf("switch %s back to %s", env.Service, orOriginal(good.ActiveColour))})
		if good.ActiveColour == "" {
			// A selector without a track picks every copy's pods too.
			for _, w := range env.Workloads {
				for _, c := range []string{"blue", "green"} {
					steps = append(steps, Step{Kind: Scale, Deployment: w.Name + "-" + c, Replicas: 0, Note: "retire " + w.Name + "-" + c})
				}
			}
		}
	}
	for _, w := range env.Workloads {
		if img := good.Images[w.Name]; img != "" {
			steps = append(steps,
				Step{Kind: SetImage, Deployment: w.Name, Container: w.Container, Image: img, Note: fmt.Sprintf("%s: back to %s", w.Name, img)},
				Step{Kind: WaitRollout, Deployment: w.Name, Note: "wait for " + w.Name + " to roll back"})
		}
		if _, ok := cur.Replicas[CanaryName(w.Name)]; ok {
			steps = append(steps, Step{Kind: Scale, Deployment: CanaryName(w.Name), Replicas: 0, Note: "retire the canary"})
		}
		if _, ok := cur.Replicas[BaselineName(w.Name)]; ok {
			steps = append(steps, Step{Kind: Scale, Deployment: BaselineName(w.Name), Replicas: 0, Note: "retire the baseline"})
		}
	}
	return steps
}

// Status is what Kubernetes reports of a Deployment's rollout.
type Status struct {
	Found                          bool
	Generation, ObservedGeneration int64
	Desired                        int32 // spec.replicas
	Total                          int32 // status.replicas: old pods too
	Updated, Ready, Available      int32
	DeadlineExceeded               bool   // Progressing=False, ProgressDeadlineExceeded
	Message                        string // the Progressing condition's
}

// Verdicts of a step.
const (
	Wait   Settled = "wait"
	Done   Settled = "done"
	Failed Settled = "failed"
)

// Settled is whether an applied step has done its work.
type Settled string

// Settle says whether a step that was applied has done its work: a
// rollout complete (kubectl rollout status' rule), a pause elapsed.
// elapsed is the time since the step was applied; deadline bounds a
// rollout when Kubernetes' own progress deadline has not fired.
func Settle(s Step, st Status, elapsed, deadline time.Duration) (verdict Settled, why string) {
	switch s.Kind {
	case Pause, Analyze:
		if elapsed >= s.Pause {
			return Done, ""
		}
		return Wait, fmt.Sprintf("%s left", (s.Pause - elapsed).Round(time.Second))
	case WaitRollout:
		return settleRollout(s, st, elapsed, deadline)
	case SetImage, EnsureCopy, Scale, SwitchService:
		// Acting steps have done their work once applied; the wait for
		// the rollout is its own step.
	}
	return Done, ""
}

func settleRollout(s Step, st Status, elapsed, deadline time.Duration) (Settled, string) {
	switch {
	case !st.Found:
		return Failed, s.Deployment + " does not exist"
	case st.ObservedGeneration < st.Generation:
		// The controller has not seen the change yet: what the status says
		// (even a deadline exceeded) is about the previous rollout.
		if elapsed > deadline {
			return Failed, fmt.Sprintf("%s: the controller did not take up the change within %s", s.Deployment, deadline)
		}
		return Wait, "waiting for the controller"
	case st.DeadlineExceeded:
		return Failed, fmt.Sprintf("%s did not progress within its deadline: %s", s.Deployment, strings.TrimSpace(st.Message))
	case st.Updated == st.Desired && st.Total == st.Desired && st.Available >= st.Desired:
		return Done, ""
	case elapsed > deadline:
		return Failed, fmt.Sprintf("%s: %d of %d pods updated and available after %s", s.Deployment, min(st.Updated, st.Available), st.Desired, elapsed.Round(time.Second))
	}
	return Wait, fmt.Sprintf("%d of %d pods updated and available", min(st.Updated, st.Available), st.Desired)
}
