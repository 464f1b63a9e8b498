package github_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/event"
	"github.com/ferry-ci/ferry/internal/fixture"
	"github.com/ferry-ci/ferry/internal/github"
)

// TestParseEveryFixture: every real payload parses into ferry's event (or
// nil for events ferry does not act on), once; one GitHub cannot have sent
// as it stands (fixture.Malformed) fails for good.
func TestParseEveryFixture(t *testing.T) {
	for _, w := range fixture.Webhooks() {
		e, err := github.ParseEvent(event.Delivery{ID: "d", Event: w.Event, Payload: w.Payload, ReceivedAt: time.Now()})
		if fixture.Malformed[w.Path()] {
			if !event.IsPermanent(err) {
				t.Errorf("%s: %v, want a permanent error", w.Path(), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", w.Path(), err)
			continue
		}
		switch v := e.(type) {
		case github.PullRequestChange:
			if v.Repo.ID == 0 || v.PR.Number == 0 || v.PR.HeadSHA == "" || v.Sender.Login == "" {
				t.Errorf("%s: %+v", w.Path(), v)
			}
		case github.Comment:
			if v.Repo.Owner == "" || v.ID == 0 || v.Author.Login == "" {
				t.Errorf("%s: %+v", w.Path(), v)
			}
		case github.Push:
			if v.Repo.Name == "" || v.After == "" {
				t.Errorf("%s: %+v", w.Path(), v)
			}
		case github.InstallationChange:
			if v.Installation.ID == 0 {
				t.Errorf("%s: %+v", w.Path(), v)
			}
		}
	}
}

// TestAttack_DeletedForkHeadRepo: GitHub sends head.repo null for a pull
// request whose fork was deleted; that head is a fork's, never the base
// repository's (an empty name would read as "same repository"). A head
// repository with another id than the base's is a fork whatever its name.
func TestAttack_DeletedForkHeadRepo(t *testing.T) {
	for name, edit := range map[string]func(head, base map[string]any){
		"null": func(head, _ map[string]any) { head["repo"] = nil },
		"other id": func(head, base map[string]any) {
			head["repo"].(map[string]any)["id"] = 1 + base["repo"].(map[string]any)["id"].(float64)
		},
		"same repo": nil,
	} {
		var p map[string]any
		if err := json.Unmarshal(fixture.Payload("pull_request", "opened.payload.json"), &p); err != nil {
			t.Fatal(err)
		}
		pull := p["pull_request"].(map[string]any)
		base := pull["base"].(map[string]any)
		head := pull["head"].(map[string]any)
		head["repo"] = base["repo"]
		if edit != nil {
			copied := map[string]any{}
			for k, v := range base["repo"].(map[string]any) {
				copied[k] = v
			}
			head["repo"] = copied
			edit(head, base)
		}
		body, _ := json.Marshal(p)
		e, err := github.ParseEvent(event.Delivery{ID: "d", Event: "pull_request", Payload: body, ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		want := base["repo"].(map[string]any)["full_name"].(string)
		if edit != nil {
			want = github.DeletedFork
		}
		if got := e.(github.PullRequestChange).PR.HeadRepo; got != want {
			t.Errorf("%s: head repo %q, want %q", name, got, want)
		}
	}
}
