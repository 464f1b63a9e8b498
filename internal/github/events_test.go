package github_test

import (
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
