package risk

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
)

var now = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) // a Tuesday morning

func assess(files ...change.File) Assessment {
	return Assess(Input{Change: change.Change{Files: files}, Policy: policy.Default(), Now: now})
}

func reason(a Assessment, rule string) (Reason, bool) {
	for _, r := range a.Reasons {
		if r.Rule == rule {
			return r, true
		}
	}
	return Reason{}, false
}

func file(path string, add int, patch string) change.File {
	return change.File{Path: path, Status: change.Modified, Additions: add, Patch: patch}
}

func TestClassRules(t *testing.T) {
	tests := []struct {
		path, rule string
	}{
		{"db/migrate/20240101_users.rb", "migration"},
		{"internal/auth/session.go", "auth"},
		{"deploy/k8s/api.yaml", "infra"},
		{"Dockerfile", "dockerfile"},
		{".github/workflows/ci.yml", "ci"},
		{"go.mod", "deps"},
		{"api/service.proto", "api-contract"},
		{"config/prod.yaml", "config"},
		{"internal/flags/flags.go", "feature-flag"},
	}
	for _, tt := range tests {
		a := assess(file(tt.path, 3, ""))
		r, ok := reason(a, tt.rule)
		if !ok || r.Weight != policy.DefaultWeights()[tt.rule] || len(r.Evidence) != 1 || r.Evidence[0].Path != tt.path {
			t.Errorf("%s: reason %+v (found %v)", tt.path, r, ok)
		}
	}
}

func TestContentRulesCarryLineNumbers(t *testing.T) {
	migration := file("db/migrate/002_cleanup.sql", 3, "@@ -0,0 +1,3 @@\n+ALTER TABLE users DROP COLUMN legacy_id;\n+DELETE FROM sessions;\n+truncate table audit_log;")
	handler := file("internal/api/handler.go", 2, "@@ -10,2 +10,4 @@ func h() {\n ctx := r.Context()\n+if !user.IsAdmin {\n+\tcheckPermission(ctx)\n }")
	secret := file("internal/api/client.go", 1, "@@ -1 +1,2 @@\n package api\n+const apiKey = \"sk_live_abcdefghijklmnop\"")
	key := file("deploy/id_rsa", 1, "@@ -0,0 +1 @@\n+-----BEGIN RSA PRIVATE KEY-----")
	a := assess(migration, handler, secret, key)

	sql, _ := reason(a, "destructive-sql")
	want := []Evidence{
		{Path: migration.Path, Line: 1, Note: "ALTER TABLE users DROP"},
		{Path: migration.Path, Line: 2, Note: "DELETE without WHERE"},
		{Path: migration.Path, Line: 3, Note: "truncate table audit_log"},
	}
	if diff := cmp.Diff(want, sql.Evidence); diff != "" {
		t.Errorf("destructive SQL evidence (-want +got):\n%s", diff)
	}
	auth, _ := reason(a, "auth")
	if auth.Weight != policy.DefaultWeights()["auth"]/2 || auth.Evidence[0].Line != 11 {
		t.Errorf("auth content: %+v", auth)
	}
	sec, _ := reason(a, "secret")
	if len(sec.Evidence) != 2 || sec.Evidence[0].Line != 2 {
		t.Fatalf("secret evidence %+v", sec.Evidence)
	}
	for _, e := range sec.Evidence {
		if strings.Contains(e.Note, "sk_live") {
			t.Fatalf("evidence leaks the secret: %+v", e)
		}
	}
	if a.Level != High {
		t.Errorf("level %s (score %d), want high", a.Level, a.Score)
	}
}

func TestFastPaths(t *testing.T) {
	docs := assess(file("README.md", 400, ""), file("docs/guide.md", 300, ""))
	tests := assess(file("internal/x/x_test.go", 500, ""), file("internal/x/testdata/in.json", 50, ""))
	code := assess(file("internal/x/x.go", 500, ""), file("internal/x/x_test.go", 500, ""))
	if docs.FastPath != "docs-only" || docs.Level != Low {
		t.Errorf("docs: %s %s %d", docs.FastPath, docs.Level, docs.Score)
	}
	if tests.FastPath != "tests-only" || tests.Level != Low {
		t.Errorf("tests: %s %s %d", tests.FastPath, tests.Level, tests.Score)
	}
	if code.FastPath != "" {
		t.Errorf("code: fast path %q", code.FastPath)
	}
}

func TestSizeAndSpreadGrow(t *testing.T) {
	var prev int
	for _, n := range []int{1, 5, 20, 100} {
		var files []change.File
		for i := range n {
			files = append(files, file(fmt.Sprintf("pkg%d/f%d.go", i%7, i), 30, ""))
		}
		a := assess(files...)
		if a.Score < prev {
			t.Fatalf("%d files scored %d, below %d", n, a.Score, prev)
		}
		prev = a.Score
	}
	if prev < 35 {
		t.Fatalf("100 files in 7 directories scored %d, want at least medium", prev)
	}
}

func TestGeneratedFilesAreDiscounted(t *testing.T) {
	small := assess(file("internal/x/x.go", 10, ""))
	withVendor := assess(file("internal/x/x.go", 10, ""), file("vendor/github.com/y/y.go", 50000, ""), file("api/x.pb.go", 9000, ""))
	if withVendor.Stats.Additions != 10 {
		t.Fatalf("generated lines counted: %+v", withVendor.Stats)
	}
	if withVendor.Score-small.Score > 1 {
		t.Fatalf("generated files moved the score from %d to %d", small.Score, withVendor.Score)
	}
}

func TestHistoryDecays(t *testing.T) {
	f := file("internal/billing/charge.go", 10, "")
	score := func(ago time.Duration) float64 {
		h := History{Incidents: map[string][]time.Time{f.Path: {now.Add(-ago)}}}
		a := Assess(Input{Change: change.Change{Files: []change.File{f}}, History: h, Policy: policy.Default(), Now: now})
		r, _ := reason(a, "history")
		return r.Weight
	}
	recent, old := score(24*time.Hour), score(365*24*time.Hour)
	if recent < 20 || old >= recent/4 {
		t.Fatalf("history weight: a day ago %.1f, a year ago %.1f", recent, old)
	}
}

func TestOffHoursOnlyForDeploys(t *testing.T) {
	saturday := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	in := Input{Change: change.Change{Files: []change.File{file("x.go", 1, "")}}, Policy: policy.Default(), Now: saturday}
	if _, ok := reason(Assess(in), "off-hours"); ok {
		t.Fatal("a pull request got the off-hours rule")
	}
	in.Kind = Push
	if r, ok := reason(Assess(in), "off-hours"); !ok || !strings.Contains(r.Summary, "Saturday") {
		t.Fatalf("push on Saturday: %+v", r)
	}
}

func TestPolicyShapesTheScore(t *testing.T) {
	p := policy.Default()
	p.Paths = []policy.PathRule{{Glob: policy.NewGlob("payments/**"), Rule: "payments", Weight: 40}}
	p.RequireHuman = []policy.Glob{policy.NewGlob("payments/**")}
	p.Weights["size"] = 0
	a := Assess(Input{Change: change.Change{Files: []change.File{file("payments/charge.go", 900, "")}}, Policy: p, Now: now})
	r, ok := reason(a, "payments")
	if !ok || r.Weight != 40 || a.Level != Medium || len(a.NeedsHuman) != 1 {
		t.Fatalf("assessment %+v", a)
	}
	if _, ok := reason(a, "size"); ok {
		t.Fatal("a rule weighted 0 still fired")
	}
}

func TestReasonsSortedByWeight(t *testing.T) {
	a := assess(file("db/migrate/1.sql", 200, ""), file("go.mod", 2, ""), file("README.md", 1, ""))
	for i := 1; i < len(a.Reasons); i++ {
		if a.Reasons[i].Weight > a.Reasons[i-1].Weight {
			t.Fatalf("reasons out of order: %+v", a.Reasons)
		}
	}
}

// TestFloors: a one-line destructive migration is high whatever its size
// or the weights; any migration at least medium.
func TestFloors(t *testing.T) {
	zero := policy.Default()
	zero.Weights = map[string]float64{"migration": 0, "destructive-sql": 0}
	for _, tt := range []struct {
		name, path, line string
		p                policy.Policy
		want             Level
	}{
		{"drop column", "db/migrate/0042_drop_email.sql", "ALTER TABLE users DROP COLUMN email;", policy.Default(), High},
		{"drop column, weights zero", "db/migrate/0042_drop_email.sql", "ALTER TABLE users DROP COLUMN email;", zero, High},
		{"type change", "migrations/0007.sql", "ALTER TABLE orders ALTER COLUMN total TYPE integer;", policy.Default(), High},
		{"not null without default", "migrations/0008.sql", "ALTER TABLE orders ADD COLUMN region text NOT NULL;", policy.Default(), High},
		{"not null with default", "migrations/0009.sql", "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';", policy.Default(), Medium},
		{"django remove field", "shop/migrations/0012_auto.py", "        migrations.RemoveField(model_name='order', name='note'),", policy.Default(), High},
		{"additive migration", "db/migrate/0043_add_index.sql", "CREATE INDEX orders_user ON orders (user_id);", policy.Default(), Medium},
		{"code", "api/orders.go", "func orders() {}", policy.Default(), Low},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := change.Change{Files: []change.File{{Path: tt.path, Status: change.Added, Additions: 1, Patch: "@@ -0,0 +1 @@\n+" + tt.line}}}
			a := Assess(Input{Change: c, Policy: tt.p, Now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)})
			if a.Level != tt.want {
				t.Fatalf("level %s (score %d, floor %s), want %s", a.Level, a.Score, a.Floor, tt.want)
			}
		})
	}
}
