package main

import (
	"fmt"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/githubsim"
)

// BenchmarkPullRequestOpenedToPublished is the whole path a user waits on:
// GitHub sends pull_request.opened, ferry verifies and stores it, a worker
// reads the policy and the change from GitHub (the simulator, validating
// every exchange against GitHub's description), scores, stores, and posts
// the check run, the comment and the label. Reports p50/p99 of the time
// from sending the webhook until all three are visible.
func BenchmarkPullRequestOpenedToPublished(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchOpened(b, dbtest.SQLiteURL(b), 1) })
	b.Run("postgres", func(b *testing.B) { benchOpened(b, dbtest.PostgresURL(b), 1) })
	// Three `ferry serve` processes on one PostgreSQL behind a round-robin
	// proxy: what a user waits on when ferry runs as several replicas.
	b.Run("postgres-3-replicas", func(b *testing.B) { benchOpened(b, dbtest.PostgresURL(b), 3) })
}

func benchOpened(b *testing.B, dsn string, replicas int) {
	sim, _ := newSim(b)
	if replicas == 1 {
		startWithSim(b, sim, "--database="+dsn)
	} else {
		var urls []*url.URL
		for range replicas {
			u, err := url.Parse(startServe(b, append(appArgs(b, sim), "--database="+dsn, "--recover-every=1h")...).url)
			if err != nil {
				b.Fatal(err)
			}
			urls = append(urls, u)
		}
		var next atomic.Int64
		proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(urls[int(next.Add(1))%len(urls)])
		}})
		b.Cleanup(proxy.Close)
		sim.SetWebhookURL(proxy.URL + "/webhook")
	}
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n := sim.AddPullRequest("acme/api", githubsim.PullRequest{Title: fmt.Sprint("PR ", i), Files: riskyFiles})
		start := time.Now()
		if _, status := sim.OpenPullRequest("acme/api", n); status != 202 {
			b.Fatalf("opened answered %d", status)
		}
		for len(sim.Labels("acme/api", n)) == 0 || len(riskComments(sim, "acme/api", n)) == 0 {
			if time.Since(start) > 30*time.Second {
				b.Fatal("not published within 30 s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
