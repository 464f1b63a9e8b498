package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/fixture"
	"github.com/ferry-ci/ferry/internal/githubsim"
	"github.com/ferry-ci/ferry/internal/kubetest"
)

// kill SIGKILLs a replica and waits for it to be gone.
func (s *server) kill(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.done
	s.done <- nil // for the cleanup's wait
}

// balancer spreads deliveries over live replicas like a load balancer: a
// replica that does not answer is skipped, the delivery sent to the next.
type balancer struct {
	mu   sync.Mutex
	urls []string // "" for a replica that is down
	next atomic.Int64
}

func (b *balancer) set(i int, url string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.urls[i] = url
}

func (b *balancer) send(ev, id string, body []byte) error {
	sig := fixture.Sign([]byte(simSecret), body)
	var last error
	for try := 0; try < 3*len(b.urls); try++ {
		b.mu.Lock()
		url := b.urls[int(b.next.Add(1))%len(b.urls)]
		b.mu.Unlock()
		if url == "" {
			continue
		}
		req, _ := http.NewRequest(http.MethodPost, url+"/webhook", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-GitHub-Event", ev)
		req.Header.Set("X-GitHub-Delivery", id)
		req.Header.Set("X-Hub-Signature-256", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err
			continue // down, or died mid-request: the same delivery to another replica
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted || resp.StatusCode == http.StatusOK {
			return nil
		}
		last = fmt.Errorf("%s answered %d", url, resp.StatusCode)
	}
	return fmt.Errorf("delivery %s: %w", id, last)
}

// TestScale_ThreeReplicasLoseOne: three `ferry serve` processes on one
// PostgreSQL take a load of signed deliveries spread across them; one is
// SIGKILLed mid-way and restarted. Every delivery is recorded once and
// handled once, every pull request gets exactly one comment, no job is lost
// or run twice.
func TestScale_ThreeReplicasLoseOne(t *testing.T) {
	sim, _ := newSim(t)
	dsn := dbtest.PostgresURL(t)
	args := append(appArgs(t, sim), "--database="+dsn, "--recover-every=1h", "--job-timeout=5s")
	replicas := []*server{startServe(t, args...), startServe(t, args...), startServe(t, args...)}
	lb := &balancer{urls: []string{replicas[0].url, replicas[1].url, replicas[2].url}}
	const prs, chatter = 60, 1440 // pull requests opened; comments that are no command
	// The simulator's own webhooks (for the comments made below, and for
	// ferry's) go nowhere: the test sends the load itself.
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(sink.Close)
	sim.SetWebhookURL(sink.URL)
	var numbers []int
	for i := range prs {
		numbers = append(numbers, sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: fmt.Sprint("change ", i), Files: riskyFiles}))
	}
	type item struct {
		ev, id string
		body   []byte
	}
	var load []item
	for i := range prs + chatter {
		n := numbers[i%prs]
		if i < prs {
			load = append(load, item{"pull_request", fmt.Sprint("pr-", i), sim.PullRequestPayload("opened", "acme/api", n)})
			continue
		}
		id, _, _ := sim.Comment("acme/api", n, "wes", fmt.Sprint("looks good ", i))
		load = append(load, item{"issue_comment", fmt.Sprint("c-", i), sim.CommentPayload("created", "acme/api", id)})
	}
	var sent atomic.Int64
	work := make(chan item)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for it := range work {
				if err := lb.send(it.ev, it.id, it.body); err != nil {
					t.Error(err)
				}
				sent.Add(1)
			}
		})
	}
	start := time.Now()
	for i, it := range load {
		switch i {
		case len(load) / 3:
			replicas[2].kill(t) // mid-way, with requests in flight and jobs claimed
			lb.set(2, "")
		case 2 * len(load) / 3:
			replicas[2] = startServe(t, args...)
			lb.set(2, replicas[2].url)
		}
		work <- it
	}
	close(work)
	wg.Wait()
	t.Logf("%d deliveries sent in %s across 3 replicas (one killed and restarted)", sent.Load(), time.Since(start).Round(time.Millisecond))

	db := dbtest.Open(t, dsn)
	ctx := context.Background()
	waitForLong(t, 2*time.Minute, "every delivery handled", func() bool {
		var done, all int
		_ = db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FILTER (WHERE status = 'done'), COUNT(*) FROM deliveries`).Scan(&done, &all)
		return all == len(load) && done == all
	})
	var dupJobs int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT args->>'delivery_id' FROM river_job
		WHERE kind = 'delivery' GROUP BY 1 HAVING COUNT(*) > 1) d`).Scan(&dupJobs); err != nil || dupJobs != 0 {
		t.Fatalf("%d deliveries with more than one job (%v)", dupJobs, err)
	}
	for _, n := range numbers {
		if c := riskComments(sim, "acme/api", n); len(c) != 1 {
			t.Fatalf("#%d has %d risk comments", n, len(c))
		}
		if runs := sim.Count("checks/create", 0); runs < prs {
			t.Fatalf("%d check runs", runs)
		}
	}
	if got := sim.Count("issues/create-comment", 0); got != prs {
		t.Fatalf("%d comments created, want %d (one per pull request)", got, prs)
	}
}

// TestScale_CanaryFinishesOnAnotherReplica: a canary holding between steps
// on one replica goes on when that replica is SIGKILLed: another replica
// (same PostgreSQL) finishes it, every step sent once, one GitHub
// deployment.
func TestScale_CanaryFinishesOnAnotherReplica(t *testing.T) {
	cs := kubetest.Client(t)
	ns := kubetest.Namespace(t, cs)
	kubetest.App(t, cs, ns, "api", "ghcr.io/acme/api:v0", 4)
	sim, repoID := newSim(t)
	sim.SetPermission("acme/api", "max", "maintain")
	sim.SetFile("acme/api", "main", ".github/ferry.yml", "version: 1\nenvironments:\n  production:\n    namespace: "+ns+
		"\n    needs_human: false\n    deployments: [{name: api}]\n    image: \"ghcr.io/acme/api:{{ .ShortSHA }}\"\n    strategy: canary\n"+
		"    canary: {steps: [25, 50, 100], pause: 3s}\n    progress_deadline: 60s\n")
	n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: "Ship it", Files: riskyFiles})
	dsn := dbtest.PostgresURL(t)
	args := append(appArgs(t, sim), "--database="+dsn, "--job-timeout=4s", "--kubeconfig="+kubetest.Kubeconfig(t), "--deploy-allow=*=*")
	a := startServe(t, args...)
	startServe(t, append(args, "--recover-every=1h")...)
	sim.SetWebhookURL(a.url + "/webhook")
	sim.Comment("acme/api", n, "max", "/ferry deploy production")
	db := dbtest.Open(t, dsn)
	waitFor(t, "the canary to hold at 25%", func() bool {
		d, _ := db.Deploys(context.Background(), repoID, "production")
		return len(d) == 1 && d[0].Step == 2
	})
	a.kill(t)
	var d deploy.Deploy
	waitForLong(t, 2*time.Minute, "the other replica to finish the deploy", func() bool {
		ds, err := db.Deploys(context.Background(), repoID, "production")
		if err == nil && len(ds) == 1 && ds[0].Terminal() {
			d = ds[0]
			return true
		}
		return false
	})
	if d.Status != deploy.Succeeded {
		t.Fatalf("deploy %s: %s", d.Status, d.Message)
	}
	steps, err := db.DeploySteps(context.Background(), d.ID)
	if err != nil || len(steps) != 9 {
		t.Fatalf("steps %d, %v", len(steps), err)
	}
	for _, st := range steps {
		if st.Applies != 1 {
			t.Fatalf("step %d (%s) sent %d times", st.N, st.Note, st.Applies)
		}
	}
	if deps := sim.Deployments("acme/api"); len(deps) != 1 {
		t.Fatalf("%d GitHub deployments", len(deps))
	}
}

func waitForLong(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestScale_IngestOnlyReplicas: replicas with --workers 0 behind the load
// balancer only record deliveries; a worker replica elsewhere handles
// them: each pull request gets its one comment.
func TestScale_IngestOnlyReplicas(t *testing.T) {
	sim, _ := newSim(t)
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	t.Cleanup(sink.Close)
	sim.SetWebhookURL(sink.URL)
	dsn := dbtest.PostgresURL(t)
	args := append(appArgs(t, sim), "--database="+dsn, "--recover-every=1h")
	ingest := []*server{startServe(t, append(args, "--workers=0")...), startServe(t, append(args, "--workers=0")...)}
	lb := &balancer{urls: []string{ingest[0].url, ingest[1].url}}
	var numbers []int
	for i := range 20 {
		n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: fmt.Sprint("change ", i), Files: riskyFiles})
		numbers = append(numbers, n)
		if err := lb.send("pull_request", fmt.Sprint("pr-", i), sim.PullRequestPayload("opened", "acme/api", n)); err != nil {
			t.Fatal(err)
		}
	}
	db := dbtest.Open(t, dsn)
	var queued int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status = 'queued'`).Scan(&queued); err != nil || queued != 20 {
		t.Fatalf("%d queued before any worker runs (%v)", queued, err)
	}
	startServe(t, args...) // the worker replica
	for _, n := range numbers {
		waitFor(t, fmt.Sprint("the comment on #", n), func() bool { return len(riskComments(sim, "acme/api", n)) == 1 })
	}
}
