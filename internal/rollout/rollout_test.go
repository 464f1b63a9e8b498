package rollout

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/policy"
)

// The strategies, as the policy names them.
const (
	Rolling   = policy.Rolling
	Canary    = policy.Canary
	BlueGreen = policy.BlueGreen
	Hotfix    = policy.Hotfix
)

func env(strategies ...policy.Strategy) policy.Environment {
	return policy.Environment{Name: "production", Namespace: "api", Workloads: []policy.Workload{{Name: "api", Container: "app"}},
		Service: "api", Strategies: strategies, CanarySteps: []int{5, 25, 100}, CanaryPause: time.Minute}
}

func TestChoose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		proposed policy.Strategy
		env      policy.Environment
		hotfix   bool
		want     policy.Strategy
		err      string
	}{
		{"risk proposes canary", Canary, env(Rolling, Canary), false, Canary, ""},
		{"risk proposes rolling", Rolling, env(Rolling, Canary), false, Rolling, ""},
		{"canary not allowed: blue-green", Canary, env(Rolling, BlueGreen), false, BlueGreen, ""},
		{"only rolling", Canary, env(Rolling), false, Rolling, ""},
		{"forced", Rolling, func() policy.Environment { e := env(Rolling, Canary); e.Strategy = Canary; return e }(), false, Canary, ""},
		{"hotfix allowed", Canary, env(Rolling, Hotfix), true, Hotfix, ""},
		{"hotfix not allowed", Rolling, env(Rolling, Canary), true, "", "hotfix deploys are not allowed in production"},
		{"nothing allowed", Rolling, env(), false, "", "allows no strategy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Choose(tc.proposed, tc.env, tc.hotfix)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || c.Strategy != tc.want || len(c.Reasons) == 0 {
				t.Fatalf("%+v, %v", c, err)
			}
		})
	}
}

func kinds(steps []Step) []string {
	var out []string
	for _, s := range steps {
		out = append(out, string(s.Kind)+" "+s.Deployment+s.Service)
	}
	return out
}

func TestPlans(t *testing.T) {
	cur := Current{Replicas: map[string]int32{"api": 20}}
	canary := Plan(Canary, env(Canary), "img:2", cur)
	if d := cmp.Diff([]string{
		"ensure-copy api-canary", "wait-rollout api-canary", "pause ",
		"ensure-copy api-canary", "wait-rollout api-canary", "pause ",
		"set-image api", "wait-rollout api", "scale api-canary",
	}, kinds(canary)); d != "" {
		t.Fatalf("canary (-want +got)\n%s", d)
	}
	if canary[0].Replicas != 1 || canary[3].Replicas != 5 {
		t.Fatalf("canary sizes %d, %d: want 5%% and 25%% of 20", canary[0].Replicas, canary[3].Replicas)
	}
	small := Plan(Canary, env(Canary), "img:2", Current{Replicas: map[string]int32{"api": 2}})
	if small[0].Replicas != 1 {
		t.Fatalf("at least one pod: %d", small[0].Replicas)
	}
	bg := Plan(BlueGreen, env(BlueGreen), "img:2", Current{Replicas: map[string]int32{"api": 3}, ActiveColour: "green"})
	if d := cmp.Diff([]string{"ensure-copy api-blue", "wait-rollout api-blue", "switch-service api"}, kinds(bg)); d != "" || bg[0].Replicas != 3 {
		t.Fatalf("blue-green (-want +got)\n%s %+v", d, bg)
	}
	hot := Plan(Hotfix, env(Hotfix), "img:2", cur)
	if d := cmp.Diff([]string{"set-image api", "wait-rollout api"}, kinds(hot)); d != "" || !hot[0].Surge {
		t.Fatalf("hotfix (-want +got)\n%s", d)
	}
	withBase := env(Canary)
	withBase.Analysis = &policy.Analysis{Baseline: true}
	based := Plan(Canary, withBase, "img:2", cur)
	if d := cmp.Diff([]string{
		"ensure-copy api-canary", "wait-rollout api-canary", "ensure-copy api-baseline", "wait-rollout api-baseline", "analyze ",
		"ensure-copy api-canary", "wait-rollout api-canary", "ensure-copy api-baseline", "wait-rollout api-baseline", "analyze ",
		"scale api-baseline", "set-image api", "wait-rollout api", "scale api-canary",
	}, kinds(based)); d != "" {
		t.Fatalf("canary with a baseline (-want +got)\n%s", d)
	}
	if b := based[2]; b.Image != "" || b.Replicas != based[0].Replicas || b.Track != "baseline" {
		t.Fatalf("the baseline runs the current version at the canary's size: %+v", b)
	}
	back := RollbackPlan(env(Rolling, BlueGreen), Known{Images: map[string]string{"api": "img:1"}}, Current{
		Replicas: map[string]int32{"api": 3, "api-canary": 1, "api-baseline": 1}, ActiveColour: "green"})
	if d := cmp.Diff([]string{"switch-service api", "scale api-blue", "scale api-green", "set-image api", "wait-rollout api", "scale api-canary",
		"scale api-baseline"}, kinds(back)); d != "" {
		t.Fatalf("rollback (-want +got)\n%s", d)
	}
}

func TestSettle(t *testing.T) {
	wait := Step{Kind: WaitRollout, Deployment: "api"}
	for _, tc := range []struct {
		name    string
		step    Step
		st      Status
		elapsed time.Duration
		want    Settled
	}{
		{"rolled out", wait, Status{Found: true, Generation: 2, ObservedGeneration: 2, Desired: 3, Total: 3, Updated: 3, Ready: 3, Available: 3}, 0, Done},
		{"old pods still there", wait, Status{Found: true, Generation: 2, ObservedGeneration: 2, Desired: 3, Total: 4, Updated: 3, Available: 3}, 0, Wait},
		{"not observed yet", wait, Status{Found: true, Generation: 3, ObservedGeneration: 2, Desired: 3, Total: 3, Updated: 3, Available: 3}, 0, Wait},
		{"deadline exceeded", wait, Status{Found: true, DeadlineExceeded: true, Message: "ReplicaSet has timed out progressing."}, 0, Failed},
		{"ferry's deadline", wait, Status{Found: true, Generation: 1, ObservedGeneration: 1, Desired: 3, Total: 3, Updated: 3}, 11 * time.Minute, Failed},
		{"missing", wait, Status{}, 0, Failed},
		{"scaled to zero", wait, Status{Found: true, Generation: 4, ObservedGeneration: 4}, 0, Done},
		{"pause running", Step{Kind: Pause, Pause: time.Minute}, Status{}, 30 * time.Second, Wait},
		{"pause over", Step{Kind: Pause, Pause: time.Minute}, Status{}, time.Minute, Done},
		{"an action", Step{Kind: SetImage}, Status{}, 0, Done},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, why := Settle(tc.step, tc.st, tc.elapsed, 10*time.Minute); got != tc.want {
				t.Fatalf("%s (%s), want %s", got, why, tc.want)
			}
		})
	}
}

func TestSettleIgnoresAnUnobservedChange(t *testing.T) {
	// The previous rollout exceeded its deadline; the new change is not
	// observed yet: wait, do not fail.
	st := Status{Found: true, Generation: 5, ObservedGeneration: 4, DeadlineExceeded: true, Desired: 3, Total: 3, Updated: 3, Available: 3}
	if got, why := Settle(Step{Kind: WaitRollout, Deployment: "api"}, st, time.Second, time.Minute); got != Wait {
		t.Fatalf("%s (%s)", got, why)
	}
}
