package main

import (
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuTime is the CPU (user + system) a process has used so far, read from
// /proc (Linux); ok is false elsewhere or once it has exited.
func cpuTime(pid int) (time.Duration, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces) in ")".
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	const ticks = 100 // USER_HZ on every Linux this runs on
	return time.Duration(utime+stime) * time.Second / ticks, true
}

// selfCPU is the CPU this process (the load generator) has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter measures the CPU the servers and the load generator use over
// the measured window, so a change's cost per delivery shows even when
// other work on the machine moves the rates.
type cpuMeter struct {
	pids         []int
	server, self time.Duration
}

func (m *cpuMeter) read() (server, self time.Duration) {
	for _, pid := range m.pids {
		if t, ok := cpuTime(pid); ok {
			server += t
		}
	}
	return server, selfCPU()
}

func (m *cpuMeter) start() { m.server, m.self = m.read() }

// stop returns the CPU used since start.
func (m *cpuMeter) stop() (server, self time.Duration) {
	s, l := m.read()
	return s - m.server, l - m.self
}

// batches reads ferry_webhook_batch_deliveries (sum and count) from each
// server's /metrics: how many deliveries shared a transaction. ok is false
// for a server without it (bare).
func batches(urls []string) (deliveries, transactions float64, ok bool) {
	for _, u := range urls {
		resp, err := http.Get(strings.TrimSuffix(u, "/webhook") + "/metrics")
		if err != nil {
			return 0, 0, false
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return 0, 0, false
		}
		for _, line := range strings.Split(string(body), "\n") {
			name, v, found := strings.Cut(line, " ")
			f, err := strconv.ParseFloat(v, 64)
			if !found || err != nil {
				continue
			}
			switch name {
			case "ferry_webhook_batch_deliveries_sum":
				deliveries += f
				ok = true
			case "ferry_webhook_batch_deliveries_count":
				transactions += f
			}
		}
	}
	return deliveries, transactions, ok
}
