// Package testenv finds the real components `make test` starts (PostgreSQL,
// the Kubernetes control plane, Prometheus) through environment variables.
// Run outside `make test` without one, a test skips and says how to get
// it; under CI=true it fails instead, since CI must test it.
package testenv

import (
	"os"
	"testing"
)

// Require returns the variable name's value. hint says how to get the
// component, for the skip or failure message.
func Require(t testing.TB, name, hint string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI=true: CI must test this (make test starts it; %s)", name, hint)
		}
		t.Skipf("%s is not set: run `make test`, which starts it (%s)", name, hint)
	}
	return v
}
