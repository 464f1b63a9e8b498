package githubsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/ferry-ci/ferry/internal/fixture"
)

func listInstallations(c *call) response {
	var ids []int64
	for id := range c.sim.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	tmpl := c.item(200)
	var items []any
	for _, id := range ids {
		in := c.sim.installations[id]
		it := clone(tmpl).(map[string]any)
		it["id"], it["app_id"], it["app_slug"] = int(in.ID), int(c.sim.cfg.AppID), c.sim.cfg.AppSlug
		it["account"] = c.installationAccount(it["account"], in.Account)
		it["access_tokens_url"] = c.apiURL(fmt.Sprintf("/app/installations/%d/access_tokens", in.ID))
		it["target_id"], it["target_type"] = int(fakeID(in.Account)), "Organization"
		it["html_url"] = fmt.Sprintf("https://github.com/organizations/%s/settings/installations/%d", in.Account, in.ID)
		it["repositories_url"] = c.apiURL("/installation/repositories")
		items = append(items, it)
	}
	return c.paginate(items)
}

// installationAccount is an installation's account. Octokit's version of
// this operation declares it allOf a user and an enterprise, so it also
// needs the enterprise's name, slug and (nullable) timestamps.
func (c *call) installationAccount(tmpl any, login string) map[string]any {
	a := c.user(tmpl, login)
	a["type"] = "Organization"
	a["name"], a["slug"], a["created_at"], a["updated_at"] = login, login, nil, nil
	return a
}

func createAccessToken(c *call) response {
	id := c.intParam("installation_id")
	if _, ok := c.sim.installations[id]; !ok {
		return errorResponse(http.StatusNotFound, "Not Found")
	}
	tok, exp := c.sim.issueToken(id)
	obj := c.object(201)
	obj["token"], obj["expires_at"] = tok, exp.UTC().Format(time.RFC3339)
	obj["repository_selection"] = "selected"
	delete(obj, "repositories")
	return response{status: http.StatusCreated, body: obj}
}

func listInstallationRepos(c *call) response {
	in := c.sim.installations[c.installation]
	obj := c.object(200)
	var tmpl map[string]any
	if list, ok := obj["repositories"].([]any); ok && len(list) > 0 {
		tmpl = list[0].(map[string]any)
	}
	var items []any
	for _, full := range in.Repos {
		items = append(items, c.repoObject(clone(tmpl).(map[string]any), c.sim.repos[full]))
	}
	return c.pageIn(obj, "repositories", items)
}

// hookDelivery is a webhook the simulator sent, for /app/hook/deliveries.
type hookDelivery struct {
	ID          int64
	GUID        string
	Event       string
	Action      string
	Payload     []byte
	StatusCode  int
	DeliveredAt time.Time
	Redelivery  bool
}

func listHookDeliveries(c *call) response {
	tmpl := c.item(200)
	var items []any
	for i := len(c.sim.deliveries) - 1; i >= 0; i-- { // newest first, as GitHub lists them
		d := c.sim.deliveries[i]
		it := clone(tmpl).(map[string]any)
		it["id"], it["guid"], it["event"], it["redelivery"] = int(d.ID), d.GUID, d.Event, d.Redelivery
		it["action"] = nil
		if d.Action != "" {
			it["action"] = d.Action
		}
		it["status_code"] = d.StatusCode
		it["status"] = http.StatusText(d.StatusCode)
		if d.StatusCode == 0 {
			it["status"] = "failed to connect"
		}
		it["delivered_at"] = d.DeliveredAt.UTC().Format(time.RFC3339)
		items = append(items, it)
	}
	return c.cursorPage(items)
}

// cursorPage pages like GitHub's delivery log: an opaque cursor in the
// next link, not page numbers.
func (c *call) cursorPage(items []any) response {
	q := c.r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	from, _ := strconv.Atoi(q.Get("cursor"))
	from = min(max(from, 0), len(items))
	to := min(from+per, len(items))
	resp := response{status: http.StatusOK, body: append([]any{}, items[from:to]...), header: http.Header{}}
	if to < len(items) {
		q.Set("cursor", strconv.Itoa(to))
		q.Set("per_page", strconv.Itoa(per))
		resp.header.Set("Link", fmt.Sprintf(`<%s%s?%s>; rel="next"`, c.sim.srv.URL, c.r.URL.Path, q.Encode()))
	}
	return resp
}

func redeliverHook(c *call) response {
	id := c.intParam("delivery_id")
	for _, d := range c.sim.deliveries {
		if d.ID == id {
			nd := &hookDelivery{ID: c.sim.nextID(), GUID: d.GUID, Event: d.Event, Action: d.Action, Payload: d.Payload,
				Redelivery: true, DeliveredAt: c.sim.now()}
			c.sim.deliveries = append(c.sim.deliveries, nd)
			go c.sim.post(nd) // GitHub redelivers asynchronously
			return response{status: http.StatusAccepted, body: map[string]any{}}
		}
	}
	return errorResponse(http.StatusNotFound, "Not Found")
}

// SetWebhookURL tells the simulator where the App's webhooks go.
func (s *Sim) SetWebhookURL(u string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhookURL = u
}

// SendWebhook signs payload with the App's webhook secret and posts it as
// event, like GitHub. It returns the delivery's GUID and ferry's status.
func (s *Sim) SendWebhook(event string, payload []byte) (guid string, status int) {
	var probe struct{ Action string }
	_ = json.Unmarshal(payload, &probe)
	s.mu.Lock()
	d := &hookDelivery{ID: s.nextID(), GUID: uuid.NewString(), Event: event, Action: probe.Action, Payload: payload, DeliveredAt: s.now()}
	s.deliveries = append(s.deliveries, d)
	s.mu.Unlock()
	return d.GUID, s.post(d)
}

// WebhookSignature is the X-Hub-Signature-256 value for payload.
func (s *Sim) WebhookSignature(payload []byte) string {
	return fixture.Sign(s.cfg.WebhookSecret, payload)
}

func (s *Sim) post(d *hookDelivery) int {
	s.mu.Lock()
	target := s.webhookURL
	s.mu.Unlock()
	status := 0
	defer func() {
		s.mu.Lock()
		d.StatusCode = status
		s.mu.Unlock()
	}()
	if target == "" {
		s.t.Errorf("githubsim: SendWebhook before SetWebhookURL")
		return 0
	}
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(d.Payload))
	if err != nil {
		s.t.Errorf("githubsim: %v", err)
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "GitHub-Hookshot/githubsim")
	req.Header.Set("X-GitHub-Event", d.Event)
	req.Header.Set("X-GitHub-Delivery", d.GUID)
	req.Header.Set("X-GitHub-Hook-ID", strconv.FormatInt(d.ID, 10))
	req.Header.Set("X-GitHub-Hook-Installation-Target-Type", "integration")
	req.Header.Set("X-GitHub-Hook-Installation-Target-ID", strconv.FormatInt(s.cfg.AppID, 10))
	req.Header.Set("X-Hub-Signature-256", s.WebhookSignature(d.Payload))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req) // GitHub's timeout
	if err != nil {
		return 0
	}
	resp.Body.Close()
	status = resp.StatusCode
	return status
}
