package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/ferry-ci/ferry/internal/event"
)

// DeliverCmd signs a payload file like GitHub does and posts it to ferry.
type DeliverCmd struct {
	URL               string `name:"url" env:"FERRY_DELIVER_URL" default:"http://127.0.0.1:8080/webhook" help:"ferry's webhook URL."`
	Event             string `name:"event" env:"FERRY_DELIVER_EVENT" required:"" help:"X-GitHub-Event, e.g. ping or installation."`
	DeliveryID        string `name:"delivery-id" env:"FERRY_DELIVER_ID" help:"X-GitHub-Delivery (default: a new UUID; repeat one to see a duplicate)."`
	WebhookSecret     string `name:"webhook-secret" env:"FERRY_WEBHOOK_SECRET" help:"The secret ferry verifies with."`
	WebhookSecretFile string `name:"webhook-secret-file" env:"FERRY_WEBHOOK_SECRET_FILE" help:"File holding the secret."`
	Payload           string `arg:"" type:"existingfile" help:"JSON payload file."`
}

// Run implements the command.
func (d *DeliverCmd) Run(e *env) error {
	secret, err := readSecret(d.WebhookSecret, d.WebhookSecretFile)
	if err != nil {
		return err
	}
	body, err := os.ReadFile(d.Payload)
	if err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	id := d.DeliveryID
	if id == "" {
		id = uuid.NewString()
	}
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return settingError("url", "FERRY_DELIVER_URL", "%v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", event.Sign(secret, body))
	req.Header.Set("User-Agent", "GitHub-Hookshot/ferry-deliver")
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	fmt.Fprintf(e.stdout, "delivery %s: %s %s", id, resp.Status, msg)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("ferry answered %s", resp.Status)
	}
	return nil
}
