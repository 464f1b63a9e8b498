package deployagent

import (
	"testing"

	"github.com/ferry-ci/ferry/internal/policy"
)

func TestAllow(t *testing.T) {
	allow, err := ParseAllow([]string{"acme/api=prod/api-*", "acme/*=/staging", "ops/infra=in-cluster/*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		repo string
		env  policy.Environment
		want bool
	}{
		{"acme/api", policy.Environment{Context: "prod", Namespace: "api-eu"}, true},
		{"acme/web", policy.Environment{Context: "prod", Namespace: "api-eu"}, false},
		{"acme/web", policy.Environment{Namespace: "staging"}, true},
		{"acme/web", policy.Environment{Context: "prod", Namespace: "staging"}, false},
		{"ops/infra", policy.Environment{InCluster: true, Namespace: "kube-system"}, true},
		{"evil/fork", policy.Environment{Namespace: "staging"}, false},
	} {
		if got := allow.Permits(tc.repo, tc.env); got != tc.want {
			t.Errorf("%s → %+v: %t, want %t", tc.repo, tc.env, got, tc.want)
		}
	}
	if (Allow(nil)).Permits("any/repo", policy.Environment{Namespace: "x"}) {
		t.Error("no rules must allow nothing")
	}
	all, err := ParseAllow([]string{"*=*"})
	if err != nil || !all.Permits("any/repo", policy.Environment{Context: "prod", Namespace: "kube-system"}) {
		t.Errorf("'*=*' must allow everything: %v", err)
	}
	for _, bad := range []string{"acme/api", "acme/api=prod", "=prod/x"} {
		if _, err := ParseAllow([]string{bad}); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
