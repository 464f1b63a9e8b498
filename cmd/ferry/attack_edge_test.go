package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/dbtest"
	"github.com/ferry-ci/ferry/internal/fixture"
	"github.com/ferry-ci/ferry/internal/webhook"
)

// procKB reads a "Name:   123 kB" field of /proc/PID/status in bytes.
func procKB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// rssSampler records the highest VmRSS of a process until stopped.
type rssSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			if rss, err := procKB(pid, "VmRSS"); err == nil && rss > s.peak.Load() {
				s.peak.Store(rss)
			}
			select {
			case <-s.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return s
}

func (s *rssSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.peak.Load()
}

// floodRequest is one hostile request: unsigned, or with a well-formed
// signature that does not match (so the body must be read to refute it),
// with a declared length or chunked.
func floodRequest(url string, body []byte, i int) (*http.Request, error) {
	var r io.Reader = bytes.NewReader(body)
	if i%10 == 1 {
		r = io.MultiReader(r) // length unknown: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, url+"/webhook", r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", fmt.Sprint("flood-", i))
	if i%10 <= 1 {
		req.Header.Set("X-Hub-Signature-256", fixture.Sign([]byte("an attacker's guess at the key"), body))
	}
	return req, nil
}

// The flood's memory ceiling. Bodies buffered at once are bounded by the
// in-flight budget (webhook.DefaultMaxInFlightBytes, 64 MiB); the Go heap
// may grow to twice its live size before a collection (GOGC=100), and the
// server keeps a few KiB of buffers and stack per open connection. So:
// the idle process, plus twice the budget, plus 64 MiB for connections,
// parsing and the runtime. README states this number for the default.
const floodSlack = 64 << 20

// TestAttack_ConcurrentHugeBodies: 240 concurrent 24 MB bodies, most
// unsigned and a fifth with a forged signature (half of those chunked), do
// not grow ferry's memory past the in-flight budget; every one is refused;
// afterwards a signed delivery is still accepted and the process is alive.
func TestAttack_ConcurrentHugeBodies(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the process's memory from /proc (Linux)")
	}
	t.Setenv("FERRY_WEBHOOK_SECRET", string(testSecret))
	s := startServe(t, "--database="+dbtest.SQLiteURL(t), "--log-level=error")
	pid := s.cmd.Process.Pid
	baseline, err := procKB(pid, "VmRSS")
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(pid)
	body := bytes.Repeat([]byte("x"), 24<<20)
	const n = 240
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Minute}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			outcome := "transport error" // the server closed before the whole body was sent
			req, err := floodRequest(s.url, body, i)
			if err != nil {
				t.Error(err)
				return
			}
			if resp, err := client.Do(req); err == nil {
				outcome = strconv.Itoa(resp.StatusCode)
				resp.Body.Close()
			}
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	peak := sampler.Stop()
	hwm, err := procKB(pid, "VmHWM")
	if err != nil {
		t.Fatal(err)
	}
	peak = max(peak, hwm)
	ceiling := baseline + 2*webhook.DefaultMaxInFlightBytes + floodSlack
	t.Logf("flood of %d × %d MB: outcomes %v; ferry RSS baseline %d MB, peak %d MB (ceiling %d MB)",
		n, len(body)>>20, outcomes, baseline>>20, peak>>20, ceiling>>20)
	for outcome := range outcomes {
		if strings.HasPrefix(outcome, "2") {
			t.Errorf("a hostile request was answered %s", outcome)
		}
	}
	if peak > ceiling {
		t.Errorf("peak RSS %d MB over the ceiling %d MB", peak>>20, ceiling>>20)
	}
	select {
	case err := <-s.done:
		s.done <- err
		t.Fatalf("ferry exited during the flood: %v", err)
	default:
	}
	// Every hostile request was answered by the handler and refused, even
	// those whose client saw only a closed connection.
	_, metrics := s.get(t, "/metrics")
	refused, reasons := 0, map[string]int{}
	for _, line := range strings.Split(metrics, "\n") {
		if rest, ok := strings.CutPrefix(line, `ferry_webhook_deliveries_total{event="-",outcome="`); ok {
			reason, count, _ := strings.Cut(rest, `"} `)
			k, _ := strconv.Atoi(count)
			refused += k
			reasons[reason] = k
		}
	}
	t.Logf("refused by ferry: %v", reasons)
	if refused != n {
		t.Errorf("%d requests refused, want all %d:\n%s", refused, n, metrics)
	}
	inst := fixture.Payload("installation", "created.payload.json")
	if got := s.deliver(t, testSecret, "installation", "after-flood", inst); got != http.StatusAccepted {
		t.Fatalf("signed delivery after the flood: %d, want 202", got)
	}
	time.Sleep(3 * time.Second)
	if rss, err := procKB(pid, "VmRSS"); err == nil {
		t.Logf("ferry RSS 3 s after the flood: %d MB", rss>>20)
	}
}
