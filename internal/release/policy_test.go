package release

import (
	"testing"

	"github.com/ferry-ci/ferry/internal/policy"
)

func TestFromPolicy(t *testing.T) {
	p, err := policy.Parse([]byte(`version: 1
release:
  enabled: true
  version_files: [VERSION]
  components: [{name: api, paths: ["api/**"]}]
  sections: {labels: {bug: Bug fixes}}
  major_before_1: true
  prerelease: rc
  ignore_authors: ["dependabot[bot]"]
`))
	if err != nil {
		t.Fatal(err)
	}
	c := FromPolicy(p.Release)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.BelowOne != BelowOneStandard || c.Prerelease != "rc" || c.Labels["bug"] != "Bug fixes" || len(c.Noise) != 1 ||
		len(c.Components) != 1 || c.Components[0].TagPattern != "api-v{version}" {
		t.Fatalf("config %+v", c)
	}
	d := FromPolicy(policy.Default().Release)
	if d.TagPattern != "v{version}" || d.Changelog != "CHANGELOG.md" || len(d.Components) != 0 {
		t.Fatalf("default %+v", d)
	}
}
