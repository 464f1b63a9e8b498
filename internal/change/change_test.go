package change

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestClasses(t *testing.T) {
	tests := []struct {
		path string
		want []Class
	}{
		{"db/migrate/20240101_add_users.rb", []Class{Migration}},
		{"migrations/0003_drop_column.sql", []Class{Migration}},
		{"internal/store/migrations/00001_spine.sql", []Class{Migration}},
		{"alembic/versions/ab12_add.py", []Class{Migration}},
		{"src/main/resources/db/migration/V2__add_index.sql", []Class{Migration}},
		{"prisma/schema.prisma", []Class{Migration}},
		{"app/migrations/0012_auto.py", []Class{Migration}},
		{"internal/auth/session.go", []Class{Auth}},
		{"pkg/oauth2/token.go", []Class{Auth}},
		{"server/password_reset.py", []Class{Auth}},
		{"internal/crypto/aes.go", []Class{Auth}},
		{"Dockerfile", []Class{Dockerfile, Infra}},
		{"build/Dockerfile.prod", []Class{Dockerfile, Infra}},
		{"deploy/k8s/api.yaml", []Class{Infra}},
		{"charts/api/values.yaml", []Class{Infra}},
		{"infra/main.tf", []Class{Infra}},
		{".github/workflows/ci.yml", []Class{CI}},
		{".gitlab-ci.yml", []Class{CI}},
		{"go.mod", []Class{Deps}},
		{"go.sum", []Class{Deps, Generated}},
		{"web/package.json", []Class{Deps}},
		{"yarn.lock", []Class{Deps, Generated}},
		{"requirements-dev.txt", []Class{Deps}},
		{"api/v1/service.proto", []Class{APIContract}},
		{"openapi.yaml", []Class{APIContract}},
		{"config/production.yml", []Class{Config}},
		{"internal/featureflags/flags.go", []Class{FeatureFlag}},
		{"api/v1/service.pb.go", []Class{Generated}},
		{"vendor/github.com/x/y.go", []Class{Generated}},
		{"internal/store/store_test.go", []Class{Tests}},
		{"src/Button.test.tsx", []Class{Tests}},
		{"src/test/java/FooTest.java", []Class{Tests}},
		{"tests/README.md", []Class{Tests}},
		{"README.md", []Class{Docs}},
		{"docs/guide/install.rst", []Class{Docs}},
		{"internal/risk/risk.go", nil},
		{"cmd/tokenizer/main.go", nil}, // "tokenizer" is not "token"
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, Classes(tt.path)); diff != "" {
			t.Errorf("Classes(%q) (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestAddedLines(t *testing.T) {
	patch := "@@ -1,3 +1,4 @@\n line one\n-old two\n+new two\n+added three\n line four\n@@ -10,2 +11,3 @@ func x() {\n context\n+DROP TABLE users;\n context\n\\ No newline at end of file"
	want := []Line{{2, "new two"}, {3, "added three"}, {12, "DROP TABLE users;"}}
	if diff := cmp.Diff(want, AddedLines(patch)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
