package rollout

import "testing"

func TestCommitOfImage(t *testing.T) {
	full := "0123456789abcdef0123456789abcdef01234567"
	for _, tt := range []struct {
		tmpl, image, want string
		ok                bool
	}{
		{"ghcr.io/acme/api:{{ .ShortSHA }}", "ghcr.io/acme/api:01234567", "01234567", true},
		{"ghcr.io/acme/api:{{ .SHA }}", "ghcr.io/acme/api:" + full, full, true},
		{"ghcr.io/acme/api:sha-{{.ShortSHA}}", "ghcr.io/acme/api:sha-01234567", "01234567", true},
		{"ghcr.io/acme/api:{{ .ShortSHA }}", "ghcr.io/acme/api:v0", "", false},
		{"ghcr.io/acme/api:{{ .ShortSHA }}", "evil.io/acme/api:01234567", "", false},
		{"ghcr.io/acme/api:latest", "ghcr.io/acme/api:latest", "", false},
	} {
		got, ok := CommitOfImage(tt.tmpl, tt.image)
		if got != tt.want || ok != tt.ok {
			t.Errorf("CommitOfImage(%q, %q) = %q, %t; want %q, %t", tt.tmpl, tt.image, got, ok, tt.want, tt.ok)
		}
	}
}
