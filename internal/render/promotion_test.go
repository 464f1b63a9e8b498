package render

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ferry-ci/ferry/internal/mdtest"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/promotion"
	"github.com/ferry-ci/ferry/internal/risk"
)

func production() policy.Environment {
	return policy.Environment{Name: "production", Namespace: "prod", NeedsHuman: true, ProgressDeadline: 10 * time.Minute,
		Analysis: &policy.Analysis{Watch: 20 * time.Minute},
		Promote:  policy.Promotion{Via: policy.PromotePullRequest, From: "staging", Branch: "deploy/production"},
		Freezes:  []policy.Freeze{{From: now.Add(15 * time.Minute), To: now.Add(48 * time.Hour), Reason: "year-end"}}}
}

func sha(i int) string { return strings.Repeat(fmt.Sprintf("%04x", 0xa000+i), 10) }

func promotionChanges() []promotion.Change {
	staged := &promotion.Source{Since: now.Add(-3 * time.Hour), Until: now.Add(-time.Hour)}
	still := &promotion.Source{Since: now.Add(-time.Hour)}
	return []promotion.Change{
		{Commit: promotion.Commit{SHA: sha(1), PR: 41, Paths: []string{"db/migrate/20261124_orders_total.sql", "api/orders.go"}},
			Title: "feat(api): orders total", Author: "alice", Assessed: true, Level: risk.High, Score: 71, Top: "adds a destructive schema change",
			Proposal: promotion.Plan{Strategy: policy.Canary, Watch: 30 * time.Minute, NeedHuman: []string{"high risk"}}, Source: staged},
		{Commit: promotion.Commit{SHA: sha(2), PR: 42, Paths: []string{"deploy/k8s/api.yaml"}}, Title: "chore: more replicas", Author: "bob",
			Assessed: true, Level: risk.Medium, Score: 40, Top: "touches infrastructure", Approvals: []string{"carol"},
			Proposal: promotion.Plan{Strategy: policy.Rolling, Watch: 15 * time.Minute}, Source: staged, RolledBackIn: []string{"staging"}},
		{Commit: promotion.Commit{SHA: sha(3), IsRevert: true, Paths: []string{"web/app.js"}}, Title: `Revert "feat: dark mode"`,
			Author: "dave", Source: still},
	}
}

// TestPromotionBody: the production-deploy pull request's body for three
// changes: combined risk (the high one's canary, the longest watch), each
// row, what needs attention (migration, high risk, unapproved,
// infrastructure, a revert, a rollback elsewhere, a freeze starting within
// the watch), and the links. The policy's watch wins over the route's.
func TestPromotionBody(t *testing.T) {
	r := mustRenderer(t)
	s := promotion.Summarize(promotion.Input{Env: production(), Running: sha(0), Changes: promotionChanges(), Now: now})
	if s.Plan.Level != risk.High || s.Plan.Strategy != policy.Canary || s.Plan.Watch != 20*time.Minute || len(s.Authors) != 3 {
		t.Fatalf("plan %+v, authors %v", s.Plan, s.Authors)
	}
	v := NewPromotionView(s, production(), "https://github.com/acme/api",
		[]EarlierDeploy{{ID: "promote-7-40", Short: "0abc0000", Status: "succeeded"}}, now)
	out, err := r.Promotion(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "promotion.md", out)
}

// TestAttack_PromotionBodyInjection: titles, logins and freeze reasons
// from the repository are escaped: no link, image, HTML or mention but
// the compare link ferry builds; a thousand changes stay under GitHub's
// body limit.
func TestAttack_PromotionBodyInjection(t *testing.T) {
	r := mustRenderer(t)
	env := production()
	env.Freezes[0].Reason = "<img src=x onerror=alert(1)> @org/all"
	changes := promotionChanges()
	changes[0].Title = "[click](https://evil.example) ![x](https://evil.example/x.png) @org/all <script>x</script>"
	changes[1].Author = "mallory](https://evil.example)"
	changes[0].Top = "|||\n### heading"
	s := promotion.Summarize(promotion.Input{Env: env, Running: sha(0), Changes: changes, Now: now, Paused: "paused by @eve: `rm -rf` [x](y)"})
	out, err := r.Promotion(NewPromotionView(s, env, "https://github.com/acme/api", nil, now))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "promotion-hostile.md", out)
	withoutCompare := strings.Replace(out, "[everything going out](https://github.com/acme/api/compare/"+sha(0)+"..."+sha(3)+")", "", 1)
	for _, p := range mdtest.Problems(withoutCompare) {
		t.Errorf("%s", p)
	}
	var many []promotion.Change
	for i := range 1000 {
		c := promotionChanges()[i%3]
		c.SHA, c.Title = sha(10+i), strings.Repeat("long title ", 20)
		many = append(many, c)
	}
	s = promotion.Summarize(promotion.Input{Env: env, Running: sha(0), Changes: many, Now: now})
	out, err = r.Promotion(NewPromotionView(s, env, "https://github.com/acme/api", nil, now))
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 60000 || !strings.Contains(out, "… and 900 more") || strings.Count(out, "… and ") != 2 {
		t.Fatalf("%d bytes for a thousand changes (GitHub takes 65536)", len(out))
	}
}

func mustRenderer(t *testing.T) *Renderer {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}
