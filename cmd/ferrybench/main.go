// Command ferrybench measures ferry's webhook edge as GitHub sees it: real
// fixture payloads, each with a unique delivery id, signed and posted over
// loopback by concurrent clients. It runs three servers as separate
// processes, one after another, and prints one table:
//
//   - bare: verifies the HMAC and answers 202 (the physical limit here);
//   - ferry on SQLite and ferry on PostgreSQL: the real `ferry serve`.
//
// Usage: ferrybench --ferry bin/ferry [--postgres ADMIN_URL] [--duration 10s] [--concurrency 16]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-ci/ferry/internal/store"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "bare-server" {
		if err := bareServer(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bare-server:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ferrybench:", err)
		os.Exit(1)
	}
}

type options struct {
	ferry       string
	fixtures    string
	postgres    string
	duration    time.Duration
	warmup      time.Duration
	concurrency int
}

func run() error {
	o := parseOptions()
	payloads, err := loadPayloads(o.fixtures)
	if err != nil {
		return err
	}
	secret := "ferrybench-webhook-secret" // ferry serve wants at least 16 bytes
	fmt.Printf("ferrybench: %d fixture payloads, %d clients, %s per target after %s warm-up, loopback\n\n",
		len(payloads), o.concurrency, o.duration, o.warmup)
	dir, err := os.MkdirTemp("", "ferrybench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ts, err := targets(o, secret, dir)
	if err != nil {
		return err
	}
	var results []result
	for _, t := range ts {
		cmd, cleanup, err := t.cmd()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		r, err := measure(t.name, cmd, payloads, secret, o)
		cleanup()
		if err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
		results = append(results, r)
	}
	report(os.Stdout, results)
	return nil
}

func parseOptions() options {
	var o options
	flag.StringVar(&o.ferry, "ferry", "bin/ferry", "path to the ferry binary")
	flag.StringVar(&o.fixtures, "fixtures", "internal/fixture/testdata/webhooks", "real webhook payloads (EVENT/NAME.payload.json)")
	flag.StringVar(&o.postgres, "postgres", os.Getenv("FERRY_TEST_POSTGRES"), "PostgreSQL admin URL (a fresh database is made); empty skips PostgreSQL")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured load per target")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured load before each measurement")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent clients")
	flag.Parse()
	return o
}

// target is a server to load: how to start it, and what to clean up after.
type target struct {
	name string
	cmd  func() ([]*exec.Cmd, func(), error) // one per replica
}

// targets are the bare HMAC handler, ferry on SQLite and, given a server,
// ferry on PostgreSQL.
func targets(o options, secret, dir string) ([]target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out := []target{
		{"bare HMAC + 202", func() ([]*exec.Cmd, func(), error) {
			return []*exec.Cmd{exec.Command(self, "bare-server", "--secret", secret)}, func() {}, nil
		}},
		{"ferry, SQLite", func() ([]*exec.Cmd, func(), error) {
			return []*exec.Cmd{ferryCmd(o.ferry, secret, "sqlite:"+filepath.Join(dir, "bench.db"))}, func() {}, nil
		}},
	}
	if o.postgres != "" {
		for _, n := range []int{1, 3} {
			name := "ferry, PostgreSQL"
			if n > 1 {
				name = fmt.Sprintf("ferry ×%d, PostgreSQL", n)
			}
			out = append(out, target{name, func() ([]*exec.Cmd, func(), error) {
				dsn, drop, err := store.CreatePostgresDatabase(o.postgres, fmt.Sprintf("ferrybench_%d", time.Now().UnixNano()))
				if err != nil {
					return nil, nil, err
				}
				var cmds []*exec.Cmd
				for range n {
					cmds = append(cmds, ferryCmd(o.ferry, secret, dsn))
				}
				return cmds, drop, nil
			}})
		}
	}
	return out, nil
}

func ferryCmd(bin, secret, dsn string) *exec.Cmd {
	cmd := exec.Command(bin, "serve", "--listen=127.0.0.1:0", "--database="+dsn, "--log-level=warn")
	cmd.Env = append(os.Environ(), "FERRY_WEBHOOK_SECRET="+secret)
	return cmd
}

// measure starts the servers (replicas), loads them and stops them.
func measure(name string, cmds []*exec.Cmd, payloads []payload, secret string, o options) (result, error) {
	var urls []string
	for _, cmd := range cmds {
		url, stop, err := start(cmd)
		defer stop()
		if err != nil {
			return result{}, err
		}
		urls = append(urls, url)
	}
	fmt.Fprintf(os.Stderr, "ferrybench: %s at %s …\n", name, strings.Join(urls, ", "))
	l := newLoad(urls, secret, payloads, o.concurrency)
	l.run(context.Background(), o.warmup, false)
	cpu := cpuMeter{}
	for _, cmd := range cmds {
		cpu.pids = append(cpu.pids, cmd.Process.Pid)
	}
	cpu.start()
	d0, t0, _ := batches(urls)
	r := l.run(context.Background(), o.duration, true)
	r.serverCPU, r.loadCPU = cpu.stop()
	if d1, t1, ok := batches(urls); ok && t1 > t0 {
		r.batch = (d1 - d0) / (t1 - t0)
	}
	r.name = name
	if r.requests == 0 {
		return r, errors.New("no request succeeded")
	}
	return r, nil
}

// start runs one server and returns its webhook URL.
func start(cmd *exec.Cmd) (string, func(), error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", func() {}, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", func() {}, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
		}
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return "", stop, fmt.Errorf("server did not start: %v\n%s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		return "", stop, fmt.Errorf("unexpected first line %q", line)
	}
	return strings.Fields(rest)[0] + "/webhook", stop, nil
}
