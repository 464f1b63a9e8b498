package main

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
)

var docsChange = []githubsim.File{{Filename: "docs/guide.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n x\n+y"}}

// envPolicy is a policy with one environment, production, in namespace ns
// of the kubeconfig's context named context; extra lines go under it.
func envPolicy(context, ns string, extra ...string) string {
	p := "version: 1\nenvironments:\n  production:\n"
	if context != "" {
		p += "    cluster: {context: " + context + "}\n"
	}
	p += "    namespace: " + ns + "\n    deployments: [{name: api}]\n    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    strategy: rolling\n"
	for _, e := range extra {
		p += "    " + e + "\n"
	}
	return p
}

// clusterAndSim is a namespace on the test control plane running
// Deployment api (2 pods of v0), and the simulator with acme/api.
func clusterAndSim(t *testing.T) (kubernetes.Interface, string, *githubsim.Sim, int64) {
	t.Helper()
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:v0", 2)
	sim, repoID := newSim(t)
	return cs, ns, sim, repoID
}

// startDeploying starts ferry as the simulator's App on SQLite with the
// test cluster and one --deploy-allow rule; it returns the database.
func startDeploying(t *testing.T, sim *githubsim.Sim, allow string) string {
	t.Helper()
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn, "--kubeconfig="+kubetest.Kubeconfig(t), "--deploy-allow="+allow)
	return dsn
}

// TestAttack_DeployWithoutAllowRule: an installed repository's policy
// names kube-system on the operator's production cluster. Without any
// --deploy-allow rule ferry deploys nothing: the maintainer is told what
// to do (ask the operator), never the cluster or namespace; the audit
// trail keeps the details for the operator; nothing is deployed.
func TestAttack_DeployWithoutAllowRule(t *testing.T) {
	sim, repoID := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetFile("acme/api", "main", ".github/ferry.yml", envPolicy("prod-eu-1", "kube-system", "needs_human: false"))
	dsn := dbtest.SQLiteURL(t)
	startWithSim(t, sim, "--database="+dsn) // no --deploy-allow
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", Files: docsChange})
	sim.OpenPullRequest("acme/api", n)

	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production")
	if ok || !strings.Contains(reply, "ferry's operator has not allowed deploys from this repository to production") {
		t.Fatalf("deploy went through or said the wrong thing (ok %t):\n%s", ok, reply)
	}
	for _, secret := range []string{"kube-system", "prod-eu-1"} {
		if strings.Contains(reply, secret) {
			t.Errorf("the reply names the operator's %q:\n%s", secret, reply)
		}
	}
	db := dbtest.Open(t, dsn)
	if ds, err := db.Deploys(context.Background(), repoID, "production"); err != nil || len(ds) != 0 {
		t.Fatalf("deploys %+v, %v", ds, err)
	}
	refused := decisionsWith(t, db, "deploy-")
	if len(refused) != 1 || !strings.HasPrefix(refused[0].Output, "refused: ") || len(refused[0].Reasons) != 1 ||
		!refused[0].Reasons[0].Private || !strings.Contains(refused[0].Reasons[0].Summary, "prod-eu-1/kube-system") {
		t.Fatalf("audit row %+v", refused)
	}
	// /ferry explain shows the decision without the operator's details.
	explained, _ := command(t, sim, "acme/api", n, "max", "/ferry explain "+refused[0].ID)
	if !strings.Contains(explained, "not allowed") || strings.Contains(explained, "kube-system") {
		t.Fatalf("explain:\n%s", explained)
	}
}

// TestAttack_DeployOutsideAllowedNamespace: the operator allows acme/api
// into one namespace; its policy names another (kube-system) for
// production. The deploy is refused and explained; staging, inside the
// rule, deploys.
func TestAttack_DeployOutsideAllowedNamespace(t *testing.T) {
	cs, ns, sim, repoID := clusterAndSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetFile("acme/api", "main", ".github/ferry.yml", envPolicy("", "kube-system", "needs_human: false")+
		"  staging:\n    namespace: "+ns+"\n    needs_human: false\n    deployments: [{name: api}]\n"+
		"    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    strategy: rolling\n")
	dsn := startDeploying(t, sim, "acme/api=/"+ns)
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", Files: docsChange})
	sim.OpenPullRequest("acme/api", n)

	reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production")
	if ok || !strings.Contains(reply, "has not allowed deploys from this repository to production") || strings.Contains(reply, "kube-system") {
		t.Fatalf("production (kube-system): ok %t\n%s", ok, reply)
	}
	if _, err := cs.AppsV1().Deployments("kube-system").Get(context.Background(), "api", metav1.GetOptions{}); err == nil {
		t.Fatal("something named api appeared in kube-system")
	}
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy staging"); !ok {
		t.Fatalf("staging, inside the rule, refused:\n%s", reply)
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the staging deploy", func() bool {
		ds, _ := db.Deploys(context.Background(), repoID, "staging")
		return len(ds) == 1 && ds[0].Status == deploy.Succeeded
	})
	head := sim.PullRequests("acme/api")[0].HeadSHA
	want := map[string]int{"ghcr.io/acme/api:" + head[:8]: 2}
	waitFor(t, "staging to serve the pull request", func() bool { return maps.Equal(kubetest.Images(t, cs, ns, "app=api"), want) })
}

// TestAttack_DeployNeedsApproval: production needs a human (the default
// without auto_deploy). A maintainer's /ferry deploy is refused until
// someone who neither wrote nor pushed the change approves the head, and
// until the commit's required checks (here the policy's) are green; then
// it deploys. A push voids the approval.
func TestAttack_DeployNeedsApproval(t *testing.T) {
	_, ns, sim, repoID := clusterAndSim(t)
	for login, role := range map[string]string{"max": "maintain", "rev": "write", "alice": "write"} {
		sim.SetPermission("acme/api", login, role)
	}
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "required_checks: [ci/test]\n"+envPolicy("", ns))
	dsn := startDeploying(t, sim, "*=*")
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", User: "alice", Files: docsChange})
	sim.OpenPullRequest("acme/api", n)
	head := sim.PullRequests("acme/api")[0].HeadSHA

	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production"); ok ||
		!strings.Contains(reply, "a human must approve") || !strings.Contains(reply, "needs\\_human") {
		t.Fatalf("deploy without an approval: ok %t\n%s", ok, reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "alice", "/ferry approve"); ok {
		t.Fatalf("the author approved her own change:\n%s", reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "rev", "/ferry approve"); !ok {
		t.Fatalf("a reviewer's approval was refused:\n%s", reply)
	}
	sim.SetStatus("acme/api", head, "ci/test", "pending")
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production"); ok || !strings.Contains(reply, "not green") {
		t.Fatalf("deploy while CI runs: ok %t\n%s", ok, reply)
	}
	sim.SetStatus("acme/api", head, "ci/test", "success")
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production"); !ok {
		t.Fatalf("approved and green, still refused:\n%s", reply)
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the deploy", func() bool {
		ds, _ := db.Deploys(context.Background(), repoID, "production")
		return len(ds) == 1 && ds[0].Status == deploy.Succeeded
	})

	// A push voids the approval: the new head needs its own.
	head2 := strings.Repeat("7", 40)
	sim.PushToPullRequest("acme/api", n, head2, docsChange, nil)
	waitFor(t, "the new head's assessment", func() bool { return len(checkRunsOn(sim, "acme/api", head2)) == 1 })
	sim.SetStatus("acme/api", head2, "ci/test", "success")
	if reply, ok := command(t, sim, "acme/api", n, "max", "/ferry deploy production"); ok || !strings.Contains(reply, "a human must approve") {
		t.Fatalf("deploy of a new head on an old approval: ok %t\n%s", ok, reply)
	}
	noMarkup(t, sim, "acme/api", n)
}

// TestAttack_SelfApprovalByPusher: bob, a maintainer, pushes a commit to
// alice's pull request and approves it himself: refused — the approval
// must come from someone who neither wrote nor pushed the head. Carol's
// approval counts, and bob's deploy goes ahead.
func TestAttack_SelfApprovalByPusher(t *testing.T) {
	_, ns, sim, repoID := clusterAndSim(t)
	for login, role := range map[string]string{"bob": "maintain", "carol": "write", "alice": "write"} {
		sim.SetPermission("acme/api", login, role)
	}
	sim.SetFile("acme/api", "main", ".github/ferry.yml", envPolicy("", ns))
	dsn := startDeploying(t, sim, "*=*")
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Docs", User: "alice", Files: docsChange})
	sim.OpenPullRequest("acme/api", n)
	head := strings.Repeat("b", 40)
	sim.PushToPullRequestAs("bob", "acme/api", n, head, docsChange, nil)
	waitFor(t, "bob's head assessed", func() bool { return len(checkRunsOn(sim, "acme/api", head)) == 1 })

	if reply, ok := command(t, sim, "acme/api", n, "bob", "/ferry approve"); ok || !strings.Contains(reply, "you pushed") {
		t.Fatalf("bob approved what he pushed: ok %t\n%s", ok, reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "bob", "/ferry deploy production"); ok || !strings.Contains(reply, "a human must approve") {
		t.Fatalf("bob deployed without another's approval: ok %t\n%s", ok, reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "carol", "/ferry approve"); !ok {
		t.Fatalf("carol's approval refused:\n%s", reply)
	}
	if reply, ok := command(t, sim, "acme/api", n, "bob", "/ferry deploy production"); !ok {
		t.Fatalf("approved by carol, still refused:\n%s", reply)
	}
	db := dbtest.Open(t, dsn)
	waitFor(t, "the deploy", func() bool {
		ds, _ := db.Deploys(context.Background(), repoID, "production")
		return len(ds) == 1 && ds[0].Status == deploy.Succeeded && ds[0].SHA == head
	})
}

// TestAttack_AutoDeployBeforeCI: staging deploys the default branch by
// itself. ferry's own check suite finishing first, or a quick app's,
// deploys nothing while CI (GitHub Actions) still runs; CI green deploys
// it — once.
func TestAttack_AutoDeployBeforeCI(t *testing.T) {
	_, ns, sim, repoID := clusterAndSim(t)
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "version: 1\nenvironments:\n  staging:\n    namespace: "+ns+
		"\n    deployments: [{name: api}]\n    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    auto_deploy: true\n    strategy: rolling\n")
	dsn := startDeploying(t, sim, "*=*")
	before, merged := sim.Ref("acme/api", "heads/main"), strings.Repeat("a", 40)
	sim.AddComparison("acme/api", before, merged, docsChange, nil)
	sim.SetBranch("acme/api", "main", merged)
	sim.Push("acme/api", "main", before, merged, []githubsim.PushCommit{{SHA: merged, Message: "Docs (#3)", Author: "alice",
		Modified: []string{"docs/guide.md"}}})
	waitFor(t, "the push assessed", func() bool { return len(checkRunsOn(sim, "acme/api", merged)) == 1 })

	actions := sim.AddCheckSuite("acme/api", merged, "main", "github-actions", "in_progress", "")
	own := sim.AddCheckSuite("acme/api", merged, "main", "ferry", "queued", "")
	quick := sim.AddCheckSuite("acme/api", merged, "main", "codecov", "queued", "")
	sim.CompleteCheckSuite("acme/api", own, "success")
	sim.CompleteCheckSuite("acme/api", quick, "success")
	db := dbtest.Open(t, dsn)
	time.Sleep(2 * time.Second) // long enough for the jobs of both events
	if ds, _ := db.Deploys(context.Background(), repoID, "staging"); len(ds) != 0 {
		t.Fatalf("deployed before CI finished: %+v", ds)
	}
	sim.CompleteCheckSuite("acme/api", actions, "success")
	waitFor(t, "the deploy once CI is green", func() bool {
		ds, _ := db.Deploys(context.Background(), repoID, "staging")
		return len(ds) == 1 && ds[0].Status == deploy.Succeeded
	})
	sim.CompleteCheckSuite("acme/api", quick, "success") // a late event asks again: still one deploy
	time.Sleep(time.Second)
	if ds, _ := db.Deploys(context.Background(), repoID, "staging"); len(ds) != 1 {
		t.Fatalf("%d deploys", len(ds))
	}
}
