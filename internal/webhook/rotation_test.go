package webhook

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ferry-ci/ferry/internal/fixture"
)

var previousSecret = []byte("the secret GitHub signed with until yesterday")

// rotatingHandler verifies with secret and, if previous is not nil, with
// previous too; it logs into logs.
func rotatingHandler(rec Recorder, previous []byte, logs *bytes.Buffer) *Handler {
	log := slog.New(slog.NewTextHandler(logs, nil))
	return New(Config{Secret: secret, PreviousSecret: previous, Now: time.Now, Logger: log}, rec, routes{}, NewMetrics(prometheus.NewRegistry()))
}

func signedWith(key []byte, id string) request {
	body := fixture.Payload("installation", "created.payload.json")
	return request{contentType: "application/json", event: "installation", delivery: id, body: body,
		headers: map[string]string{"X-Hub-Signature-256": fixture.Sign(key, body)}}
}

// TestAttack_SecretRotation: while a secret is rotated, a delivery signed
// with the current or the previous secret is accepted, one signed with
// anything else is not; without a previous secret configured, the old one
// is just a wrong secret. Each acceptance is counted by the secret that
// verified it, and the log names the delivery, never a secret.
func TestAttack_SecretRotation(t *testing.T) {
	for _, c := range []struct {
		name     string
		previous []byte
		key      []byte
		want     int
		verified string // the counter that grows; "" for none
	}{
		{"current, no rotation", nil, secret, http.StatusAccepted, "current"},
		{"previous, no rotation", nil, previousSecret, http.StatusUnauthorized, ""},
		{"current, rotating", previousSecret, secret, http.StatusAccepted, "current"},
		{"previous, rotating", previousSecret, previousSecret, http.StatusAccepted, "previous"},
		{"neither, rotating", previousSecret, []byte("a guess an attacker made"), http.StatusUnauthorized, ""},
		{"empty key, rotating", previousSecret, []byte{}, http.StatusUnauthorized, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logs bytes.Buffer
			rec := newMemRecorder()
			h := rotatingHandler(rec, c.previous, &logs)
			w := signedWith(c.key, "d-1").do(t, h)
			if w.Code != c.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, c.want, w.Body)
			}
			if n, _ := rec.count(); (n == 1) != (c.want == http.StatusAccepted) {
				t.Fatalf("stored %d deliveries with status %d", n, w.Code)
			}
			for _, s := range []string{"current", "previous"} {
				want := 0.0
				if s == c.verified {
					want = 1
				}
				if got := testutil.ToFloat64(h.metrics.verified.WithLabelValues(s)); got != want {
					t.Errorf("ferry_webhook_verified_total{secret=%q} = %v, want %v", s, got, want)
				}
			}
			if got := strings.Contains(logs.String(), "previous webhook secret"); got != (c.verified == "previous") {
				t.Errorf("logged the previous secret's use: %v, want %v:\n%s", got, c.verified == "previous", logs.String())
			}
			for _, s := range [][]byte{secret, previousSecret} {
				if bytes.Contains(logs.Bytes(), s) {
					t.Fatalf("a secret is in the logs:\n%s", logs.String())
				}
			}
		})
	}
}

// TestAttack_SecretRotationKeepsReplayProtection: a delivery the previous
// secret verified is deduplicated like any other — by id, and, replayed
// under a new id, by its payload.
func TestAttack_SecretRotationKeepsReplayProtection(t *testing.T) {
	rec := newMemRecorder()
	h := rotatingHandler(rec, previousSecret, &bytes.Buffer{})
	for _, c := range []struct {
		req  request
		want int
	}{
		{signedWith(previousSecret, "a"), http.StatusAccepted},
		{signedWith(previousSecret, "a"), http.StatusOK}, // redelivered
		{signedWith(previousSecret, "b"), http.StatusOK}, // captured and replayed under a new id
		{signedWith(secret, "c"), http.StatusOK},         // the same payload, signed anew
	} {
		if w := c.req.do(t, h); w.Code != c.want {
			t.Fatalf("%s: status %d, want %d", c.req.delivery, w.Code, c.want)
		}
	}
	if _, jobs := rec.count(); jobs != 1 {
		t.Fatalf("%d jobs, want 1", jobs)
	}
}
