package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/fixture"
)

var oldSecret = []byte("the webhook secret before the rotation")

// TestSettings_PreviousWebhookSecret: the previous secret is read like
// the current one (a value or a file, not both) and held to the same
// length; one equal to the current secret is a mistake in the procedure.
func TestSettings_PreviousWebhookSecret(t *testing.T) {
	dir := t.TempDir()
	shortFile := filepath.Join(dir, "short")
	_ = os.WriteFile(shortFile, []byte("fifteen bytes!!\n"), 0o600)
	db := "--database=sqlite:" + filepath.Join(dir, "f.db")
	current := "--webhook-secret=" + string(testSecret)
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"short", []string{"serve", db, current, "--webhook-secret-previous=fifteen bytes!!"}, nil,
			"--webhook-secret-previous (FERRY_WEBHOOK_SECRET_PREVIOUS): the secret must be at least 16 bytes, got 15"},
		{"short file", []string{"serve", db, current, "--webhook-secret-previous-file=" + shortFile}, nil,
			"--webhook-secret-previous-file (FERRY_WEBHOOK_SECRET_PREVIOUS_FILE): the secret must be at least 16 bytes"},
		{"missing file from env", []string{"serve", db, current}, map[string]string{"FERRY_WEBHOOK_SECRET_PREVIOUS_FILE": "/nonexistent"},
			"--webhook-secret-previous-file (FERRY_WEBHOOK_SECRET_PREVIOUS_FILE): cannot read"},
		{"both", []string{"serve", db, current, "--webhook-secret-previous=" + string(oldSecret), "--webhook-secret-previous-file=" + shortFile}, nil,
			"--webhook-secret-previous (FERRY_WEBHOOK_SECRET_PREVIOUS): set either it or --webhook-secret-previous-file"},
		{"same as current", []string{"serve", db, current}, map[string]string{"FERRY_WEBHOOK_SECRET_PREVIOUS": string(testSecret)},
			"--webhook-secret-previous (FERRY_WEBHOOK_SECRET_PREVIOUS): is the current secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := exitCode(run(context.Background(), c.args, &stdout, &stderr), &stderr)
			msg := stderr.String()
			if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, c.want) {
				t.Fatalf("exit %d, message %q, want 2 and one line containing %q", code, msg, c.want)
			}
			if strings.Contains(msg, string(testSecret)) || strings.Contains(msg, string(oldSecret)) {
				t.Fatalf("a secret in the message %q", msg)
			}
		})
	}
}

// TestServe_WebhookSecretRotation: the runbook's first step, end to end.
// With the new secret current and the old one previous, ferry accepts
// deliveries signed with either, refuses others, and /metrics says how
// many the old secret still verifies; the secrets stay out of the logs.
func TestServe_WebhookSecretRotation(t *testing.T) {
	file := filepath.Join(t.TempDir(), "previous")
	if err := os.WriteFile(file, append(oldSecret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FERRY_WEBHOOK_SECRET", string(testSecret))
	t.Setenv("FERRY_WEBHOOK_SECRET_PREVIOUS_FILE", file)
	lines, stderr := serveLines(t, 1)
	s := &server{url: urlIn(t, lines[0])}
	body := fixture.Payload("installation", "created.payload.json")
	for _, c := range []struct {
		secret []byte
		id     string
		want   int
	}{
		{oldSecret, "by-old", http.StatusAccepted},
		{[]byte("neither the old nor the new one"), "by-neither", http.StatusUnauthorized},
		{testSecret, "by-new", http.StatusOK}, // the same payload: a duplicate, verified all the same
	} {
		if got := s.deliver(t, c.secret, "installation", c.id, body); got != c.want {
			t.Fatalf("%s: %d, want %d", c.id, got, c.want)
		}
	}
	_, metrics := s.get(t, "/metrics")
	for _, line := range []string{`ferry_webhook_verified_total{secret="previous"} 1`, `ferry_webhook_verified_total{secret="current"} 1`,
		`ferry_webhook_deliveries_total{event="-",outcome="rejected_signature"} 1`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	logs := stderr.String()
	if !strings.Contains(logs, "delivery signed with the previous webhook secret") || !strings.Contains(logs, "by-old") {
		t.Errorf("no log of the old secret's use:\n%s", logs)
	}
	if strings.Contains(logs, string(testSecret)) || strings.Contains(logs, string(oldSecret)) {
		t.Fatal("a secret is in the logs")
	}
}

// TestServe_PreviousSecretOnCommandLineWarns: like the current secret,
// the previous one typed as a flag is visible in ps; ferry says which.
func TestServe_PreviousSecretOnCommandLineWarns(t *testing.T) {
	t.Setenv("FERRY_WEBHOOK_SECRET", string(testSecret))
	_, stderr := serveLines(t, 1, "--webhook-secret-previous="+string(oldSecret))
	logs := stderr.String()
	if !strings.Contains(logs, "--webhook-secret-previous on the command line is visible") ||
		!strings.Contains(logs, "FERRY_WEBHOOK_SECRET_PREVIOUS or --webhook-secret-previous-file") {
		t.Errorf("no warning naming the previous secret's flag:\n%s", logs)
	}
	if strings.Contains(logs, "--webhook-secret on the command line") {
		t.Errorf("warned of the current secret, set in the environment:\n%s", logs)
	}
}
