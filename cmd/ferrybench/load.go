package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/event"
)

type payload struct {
	event string
	body  []byte
}

// loadPayloads reads every real payload under dir (EVENT/NAME.payload.json):
// read from disk, so no test code reaches this binary.
func loadPayloads(dir string) ([]payload, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.payload.json"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no payloads under %s (run from the repository's root, or set -fixtures): %v", dir, err)
	}
	out := make([]payload, 0, len(files))
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, payload{event: filepath.Base(filepath.Dir(f)), body: body})
	}
	return out, nil
}

// unique makes request n's body differ from every other one by trailing
// JSON whitespace: ferry rejects the same signed bytes twice as a replay,
// and a real GitHub never sends the same bytes under two delivery ids.
func unique(body []byte, n uint64) []byte {
	out := make([]byte, 0, len(body)+33)
	out = append(out, body...)
	out = append(out, '\n')
	for i := range 32 {
		if n>>i&1 == 1 {
			out = append(out, '\t')
		} else {
			out = append(out, ' ')
		}
	}
	return out
}

type load struct {
	urls        []string // spread round-robin: replicas behind a balancer
	secret      []byte
	payloads    []payload
	concurrency int
	client      *http.Client
	seq         atomic.Uint64
}

func newLoad(urls []string, secret string, payloads []payload, concurrency int) *load {
	tr := &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}
	return &load{urls: urls, secret: []byte(secret), payloads: payloads, concurrency: concurrency,
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

type result struct {
	name     string
	requests int
	errors   int
	elapsed  time.Duration
	lat      []time.Duration
	codes    map[int]int
	// CPU used over the measured window by the servers and by the load
	// generator (signing, HTTP client), when the platform tells.
	serverCPU, loadCPU time.Duration
	batch              float64 // deliveries per transaction (0: not told)
}

func (l *load) run(ctx context.Context, d time.Duration, keep bool) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu  sync.Mutex
		all = result{codes: map[int]int{}}
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range l.concurrency {
		wg.Go(func() {
			var lat []time.Duration
			codes, errs := map[int]int{}, 0
			for ctx.Err() == nil {
				took, code, err := l.one(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errs++
					}
					continue
				}
				codes[code]++
				lat = append(lat, took)
			}
			mu.Lock()
			defer mu.Unlock()
			all.lat = append(all.lat, lat...)
			all.errors += errs
			for c, n := range codes {
				all.codes[c] += n
			}
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	all.requests = len(all.lat)
	return all
}

func (l *load) one(ctx context.Context) (time.Duration, int, error) {
	n := l.seq.Add(1)
	p := l.payloads[n%uint64(len(l.payloads))]
	body := unique(p.body, n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, l.urls[n%uint64(len(l.urls))], bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", p.event)
	req.Header.Set("X-GitHub-Delivery", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), n))
	req.Header.Set("X-Hub-Signature-256", event.Sign(l.secret, body))
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return time.Since(start), resp.StatusCode, nil
}

func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

func report(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\trequests\tdeliveries/s\tp50\tp99\tmax\tnon-2xx\terrors\tvs bare (rate)\tvs bare (p50)\tserver CPU/delivery\tload CPU/delivery\tbatch\t")
	var bare result
	for i, r := range results {
		slices.Sort(r.lat)
		results[i] = r
		if i == 0 {
			bare = r
		}
		non2xx := 0
		for c, n := range r.codes {
			if c < 200 || c > 299 {
				non2xx += n
			}
		}
		rate := float64(r.requests) / r.elapsed.Seconds()
		bareRate := float64(bare.requests) / bare.elapsed.Seconds()
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%s\t%s\t%s\t%d\t%d\t%.2f\t%.1fx\t%s\t%s\t%s\t\n", r.name, r.requests, rate,
			round(pct(r.lat, 0.50)), round(pct(r.lat, 0.99)), round(r.lat[len(r.lat)-1]), non2xx, r.errors,
			rate/bareRate, float64(pct(r.lat, 0.50))/float64(pct(bare.lat, 0.50)),
			perDelivery(r.serverCPU, r.requests), perDelivery(r.loadCPU, r.requests), batchSize(r.batch))
	}
	tw.Flush()
}

// perDelivery is CPU time per request, in microseconds.
func perDelivery(cpu time.Duration, n int) string {
	if cpu <= 0 || n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fµs", float64(cpu.Microseconds())/float64(n))
}

func batchSize(b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", b)
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// bareServer verifies the signature and answers 202: what any webhook
// receiver must do, with nothing stored.
func bareServer(args []string) error {
	fs := flag.NewFlagSet("bare-server", flag.ContinueOnError)
	secret := fs.String("secret", "", "webhook secret")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Printf("bare listening on http://%s\n", ln.Addr())
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 25<<20))
		if err != nil {
			http.Error(w, "too big", http.StatusRequestEntityTooLarge)
			return
		}
		if github.ValidateSignature(r.Header.Get(github.SHA256SignatureHeader), body, []byte(*secret)) != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return http.Serve(ln, h)
}
