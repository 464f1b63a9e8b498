// Package testenv finds the real components `make test` starts (PostgreSQL,
// the Kubernetes control plane, Prometheus) through environment variables,
// and the programs tests run (promtool) on the PATH.
// Run outside `make test` without one, a test skips and says how to get
// it; under CI (CI set to anything but "", "false" or "0", as CI systems
// set it) it fails instead, since CI must test it.
package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Require returns the variable name's value. hint says how to get the
// component, for the skip or failure message.
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if ci := os.Getenv("CI"); InCI(ci) {
			t.Fatalf("%s is not set under CI=%s: CI must test this (make test starts it; %s)", name, ci, hint)
		}
		t.Skipf("%s is not set: run `make test`, which starts it (%s)", name, hint)
	}
	return v
}

// Command returns the path of a program the test runs (promtool, from
// Debian's prometheus package). Without it, a test skips and says how to
// get it; under CI it fails, like Require.
func Command(t testing.TB, name, hint string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if ci := os.Getenv("CI"); InCI(ci) {
			t.Fatalf("%s is not installed under CI=%s: CI must test this (%s)", name, ci, hint)
		}
		t.Skipf("%s is not installed: %s", name, hint)
	}
	return path
}

// InCI tells whether the CI variable's value means "running in CI": GitHub
// Actions and most systems set "true", some "1" or "yes"; "false" and "0"
// say no.
func InCI(value string) bool {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "false", "0":
		return false
	}
	return true
}
