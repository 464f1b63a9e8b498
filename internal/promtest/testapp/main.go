// Command testapp is the test-only HTTP application deploy-analysis tests
// watch through the real Prometheus: it serves traffic it generates itself
// (a load loop, per track), exposes http_requests_total{track,code} and
// http_request_duration_seconds{track} on /metrics, and lets the test set
// each track's error rate and latency with POST /behaviour. It prints its
// address on the first line of stdout.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type behaviour struct {
	errorRate float64
	latency   time.Duration
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address")
	rps := flag.Int("rps", 40, "requests per second per track")
	flag.Parse()
	var mu sync.Mutex
	tracks := map[string]behaviour{}
	reg := prometheus.NewRegistry()
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"track", "code"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "Latency.",
		Buckets: prometheus.DefBuckets}, []string{"track"}) // what a team gets by default: .005 … .1, .25, .5, 1, 2.5, 5, 10
	reg.MustRegister(reqs, dur)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("POST /behaviour", func(w http.ResponseWriter, r *http.Request) {
		rate, err1 := strconv.ParseFloat(r.FormValue("error_rate"), 64)
		lat, err2 := time.ParseDuration(r.FormValue("latency"))
		if err1 != nil || err2 != nil || r.FormValue("track") == "" {
			http.Error(w, "want track, error_rate, latency", http.StatusBadRequest)
			return
		}
		mu.Lock()
		tracks[r.FormValue("track")] = behaviour{rate, lat}
		mu.Unlock()
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr())
	go func() {
		r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		for range time.Tick(time.Second / time.Duration(max(*rps, 1))) {
			mu.Lock()
			for track, b := range tracks {
				code := "200"
				if r.Float64() < b.errorRate {
					code = "500"
				}
				reqs.WithLabelValues(track, code).Inc()
				dur.WithLabelValues(track).Observe(b.latency.Seconds() * (0.8 + 0.4*r.Float64()))
			}
			mu.Unlock()
		}
	}()
	log.Fatal(http.Serve(ln, mux))
}
