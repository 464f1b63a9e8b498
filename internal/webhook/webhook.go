// Package webhook is ferry's GitHub webhook edge: it refuses what the
// headers alone can refuse, reads the body within a cap and a budget shared
// by all requests in flight, verifies the HMAC over the raw bytes before
// anything is parsed, reads just enough of the payload to route it, and
// hands it to a Recorder that stores it durably with its job. Nothing slow
// happens before the response.
package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v60/github"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/logctx"
)

// MaxBody is GitHub's cap on a webhook payload (25 MiB); larger bodies are
// not from GitHub.
const MaxBody = 25 << 20

// Recorder durably stores a delivery (with its job when it is handled).
type Recorder interface {
	Record(ctx context.Context, d event.Delivery) (event.Outcome, error)
}

// Router tells whether ferry handles an event/action; others are recorded
// as ignored.
type Router interface {
	Handles(event, action string) bool
}

// Config configures the handler.
type Config struct {
	Secret []byte // the webhook secret; required
	// PreviousSecret, while the secret is rotated, is the one GitHub may
	// still sign with: a delivery signed with either is accepted, and
	// ferry_webhook_verified_total{secret="previous"} counts those signed
	// with this one, so the operator sees when it can be removed.
	PreviousSecret []byte
	MaxBody        int64 // default MaxBody
	// MaxInFlightBytes bounds the body bytes buffered by all requests at
	// once (default DefaultMaxInFlightBytes, never less than MaxBody). A
	// request that does not fit is answered 503 before its body is read.
	MaxInFlightBytes int64
	// RecordTimeout bounds the database work so GitHub (which gives up
	// after 10 s) gets a 503 it shows, not a timeout (default 8s).
	RecordTimeout time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

// Handler serves POST /webhook.
type Handler struct {
	cfg     Config
	rec     Recorder
	routes  Router
	metrics *Metrics
	budget  budget
	chunks  sync.Pool // of *chunk, reused across requests
}

// New returns a webhook handler. It panics on an empty secret: an unsigned
// webhook endpoint must never run.
func New(cfg Config, rec Recorder, routes Router, m *Metrics) *Handler {
	if len(cfg.Secret) == 0 {
		panic("webhook: empty secret")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = MaxBody
	}
	if cfg.MaxInFlightBytes <= 0 {
		cfg.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	// The largest acceptable body must fit when nothing else is in flight.
	cfg.MaxInFlightBytes = max(cfg.MaxInFlightBytes, roundUp(cfg.MaxBody))
	if cfg.RecordTimeout <= 0 {
		cfg.RecordTimeout = 8 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	h := &Handler{cfg: cfg, rec: rec, routes: routes, metrics: m}
	h.budget.size = cfg.MaxInFlightBytes
	h.chunks.New = func() any { return new(chunk) }
	return h
}

// rejection is a request refused before it was recorded.
type rejection struct {
	status     int
	reason     string // metric label and log field
	msg        string // response body
	retryAfter string // Retry-After header, when retrying helps
	closeConn  bool   // the body may be unread, or the sender is not GitHub
}

func (e *rejection) Error() string { return e.msg }

func reject(status int, reason, format string, args ...any) *rejection {
	return &rejection{status: status, reason: reason, msg: fmt.Sprintf(format, args...)}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	d, rej := h.verify(w, r, start)
	if rej != nil {
		if rej.retryAfter != "" {
			w.Header().Set("Retry-After", rej.retryAfter)
		}
		if rej.closeConn && r.ContentLength != 0 {
			// Rather than let the server drain what the client still
			// sends, or keep its connection open for more.
			w.Header().Set("Connection", "close")
		}
		h.finish(r.Context(), w, start, "-", rej.status, rej.reason, rej.msg)
		return
	}
	ctx := logctx.With(r.Context(), slog.String("delivery", d.ID), slog.String("event", d.Event),
		slog.String("action", d.Action), slog.String("repo", d.Repository))
	rctx, cancel := context.WithTimeout(ctx, h.cfg.RecordTimeout)
	outcome, err := h.rec.Record(rctx, d)
	cancel()
	if err != nil {
		h.cfg.Logger.ErrorContext(ctx, "record delivery", "err", err)
		// GitHub does not retry; a 5xx shows in its delivery log so the
		// delivery can be redelivered once ferry's database is back.
		h.finish(ctx, w, start, d.Event, http.StatusServiceUnavailable, "error", "could not record delivery")
		return
	}
	status := http.StatusAccepted
	if outcome == event.OutcomeDuplicate {
		status = http.StatusOK
	}
	h.finish(ctx, w, start, d.Event, status, string(outcome), string(outcome))
}

func (h *Handler) finish(ctx context.Context, w http.ResponseWriter, start time.Time, ev string, status int, outcome, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg+"\n")
	if h.metrics != nil {
		h.metrics.observe(ev, outcome, h.cfg.Now().Sub(start))
	}
	level := slog.LevelInfo
	if status >= 400 {
		level = slog.LevelWarn
	}
	h.cfg.Logger.Log(ctx, level, "webhook", "status", status, "outcome", outcome)
}

// verify turns a request into a delivery or says why it is refused. The
// order matters: everything the headers alone can refuse, before a byte of
// the body is buffered; then the body within the in-flight budget and its
// signature over the raw bytes; only then parsing.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, now time.Time) (event.Delivery, *rejection) {
	hdr, rej := h.checkHeaders(w, r)
	if rej != nil {
		rej.closeConn = true
		return event.Delivery{}, rej
	}
	body, byPrevious, rej := h.readVerified(r, hdr.mac)
	if rej != nil {
		rej.closeConn = true
		return event.Delivery{}, rej
	}
	h.verified(r.Context(), hdr.id, byPrevious)
	payload, rej := extractPayload(hdr.contentType, body)
	if rej != nil {
		return event.Delivery{}, rej
	}
	return h.parse(hdr, payload, now)
}

// verified counts which secret verified a delivery and logs (the delivery
// id, never a secret) each one the previous secret did: a rotation is
// done when no delivery needs it any more.
func (h *Handler) verified(ctx context.Context, id string, byPrevious bool) {
	secret := "current"
	if byPrevious {
		secret = "previous"
		h.cfg.Logger.InfoContext(ctx, "delivery signed with the previous webhook secret", "delivery", id)
	}
	if h.metrics != nil {
		h.metrics.verified.WithLabelValues(secret).Inc()
	}
}

// headers are what verify takes from a request's headers.
type headers struct {
	contentType string
	mac         []byte // from X-Hub-Signature-256
	id, event   string
}

func (h *Handler) checkHeaders(w http.ResponseWriter, r *http.Request) (headers, *rejection) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return headers{}, reject(http.StatusMethodNotAllowed, "rejected_method", "POST only")
	}
	if r.ContentLength > h.cfg.MaxBody {
		return headers{}, tooBig(h.cfg.MaxBody)
	}
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (ct != "application/json" && ct != "application/x-www-form-urlencoded") {
		return headers{}, reject(http.StatusBadRequest, "rejected_content_type",
			"content type must be application/json or application/x-www-form-urlencoded")
	}
	mac, rej := parseSignature(r.Header.Get(github.SHA256SignatureHeader))
	if rej != nil {
		return headers{}, rej
	}
	hdr := headers{contentType: ct, mac: mac, id: r.Header.Get(github.DeliveryIDHeader), event: r.Header.Get(github.EventTypeHeader)}
	if !validToken(hdr.id) || !validToken(hdr.event) {
		return headers{}, reject(http.StatusBadRequest, "rejected_headers", "missing or invalid X-GitHub-Delivery or X-GitHub-Event")
	}
	return hdr, nil
}

// parseSignature reads X-Hub-Signature-256: "sha256=" and 64 hex digits.
// The SHA-1 X-Hub-Signature header alone is not accepted.
func parseSignature(sig string) ([]byte, *rejection) {
	hexMAC, ok := strings.CutPrefix(sig, "sha256=")
	mac, err := hex.DecodeString(hexMAC)
	if !ok || err != nil || len(mac) != sha256.Size {
		return nil, reject(http.StatusUnauthorized, "rejected_signature", "missing or malformed X-Hub-Signature-256")
	}
	return mac, nil
}

func extractPayload(contentType string, body []byte) ([]byte, *rejection) {
	if contentType == "application/json" {
		return body, nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || !form.Has("payload") {
		return nil, reject(http.StatusBadRequest, "rejected_malformed", "form body without a payload field")
	}
	return []byte(form.Get("payload")), nil
}

// parse builds the delivery from a verified payload and its headers.
func (h *Handler) parse(hdr headers, payload []byte, now time.Time) (event.Delivery, *rejection) {
	d := event.Delivery{ID: hdr.id, Event: hdr.event, ReceivedAt: now}
	// PostgreSQL text holds only valid UTF-8; GitHub never sends anything else.
	if !utf8.Valid(payload) {
		return d, reject(http.StatusBadRequest, "rejected_malformed", "payload is not valid JSON")
	}
	// Summarize validates the JSON, then skims it once for what routing
	// needs, decoding nothing else.
	sum, err := event.Summarize(payload)
	if err != nil {
		return d, reject(http.StatusBadRequest, "rejected_malformed", "payload is not a valid JSON object")
	}
	// Only what routing needs is read here (Summarize); the github adapter
	// parses the payload into ferry's event once, when its job runs.
	sum.Apply(&d)
	digest := sha256.Sum256(payload)
	d.Payload, d.Digest = payload, hex.EncodeToString(digest[:])
	d.Status = event.StatusIgnored
	if h.routes.Handles(d.Event, d.Action) {
		d.Status = event.StatusQueued
	}
	return d, nil
}

// validToken accepts header values like GUIDs and event names: short,
// printable, no spaces. They become database keys and log fields.
func validToken(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' })
}
