package change

import (
	"path"
	"regexp"
	"slices"
	"strings"
)

// Class is a kind of path that changes risk.
type Class string

// Path classes.
const (
	Migration   Class = "migration"
	Auth        Class = "auth"
	Infra       Class = "infra"
	Dockerfile  Class = "dockerfile"
	CI          Class = "ci"
	Deps        Class = "deps"
	APIContract Class = "api-contract"
	Config      Class = "config"
	FeatureFlag Class = "feature-flag"
	Generated   Class = "generated"
	Tests       Class = "tests"
	Docs        Class = "docs"
)

type classRule struct {
	class Class
	re    *regexp.Regexp
}

// rules match the slash-separated, lower-cased path. Order does not
// matter: a path may have several classes (a Dockerfile is infra too).
var rules = []classRule{
	{Migration, regexp.MustCompile(`(^|/)(migrations?|migrate|db/migrate|alembic/versions|flyway|liquibase|changelogs?)/|(^|/)prisma/(schema\.prisma|migrations/)|\.sql$|(^|/)v\d+(\.\d+)*__[^/]+\.sql$|(^|/)\d{4,}_[^/]+\.(sql|go|py|rb|js|ts)$`)},
	{Auth, regexp.MustCompile(`(^|[/_.-])(auth|authn|authz|oauth2?|oidc|saml|sso|login|logout|session|sessions|permissions?|rbac|acl|crypto|cipher|jwt|tokens?|passwords?|credentials?|secrets?|security|csrf|2fa|mfa|totp)([/_.-]|s?$)`)},
	{Dockerfile, regexp.MustCompile(`(^|/)(dockerfile|containerfile)([^/]*)$|\.dockerfile$`)},
	{Infra, regexp.MustCompile(`(^|/)(k8s|kubernetes|kustomize|manifests|deploy|deployments?|helm|charts?|terraform|infra|infrastructure|ansible|pulumi)/|\.(tf|tfvars|hcl)$|(^|/)(chart\.yaml|values[^/]*\.ya?ml|kustomization\.ya?ml|docker-compose[^/]*\.ya?ml|compose\.ya?ml|dockerfile[^/]*|containerfile)$`)},
	{CI, regexp.MustCompile(`(^|/)\.github/(workflows|actions)/|(^|/)\.gitlab-ci\.ya?ml$|(^|/)\.circleci/|(^|/)jenkinsfile$|(^|/)\.travis\.ya?ml$|(^|/)\.buildkite/|(^|/)azure-pipelines\.ya?ml$|(^|/)\.drone\.ya?ml$|(^|/)\.ci/`)},
	{Deps, regexp.MustCompile(`(^|/)(go\.mod|go\.sum|package\.json|package-lock\.json|yarn\.lock|pnpm-lock\.yaml|requirements[^/]*\.(txt|in)|pipfile(\.lock)?|poetry\.lock|pyproject\.toml|setup\.py|gemfile(\.lock)?|cargo\.(toml|lock)|pom\.xml|build\.gradle(\.kts)?|gradle\.lockfile|composer\.(json|lock)|mix\.(exs|lock)|gopkg\.(toml|lock)|vendor/modules\.txt|uv\.lock)$`)},
	{APIContract, regexp.MustCompile(`\.(proto|graphql|graphqls|gql|avsc|thrift)$|(^|/)(openapi|swagger)[^/]*\.(ya?ml|json)$|(^|/)schema\.graphql$`)},
	{Config, regexp.MustCompile(`(^|/)(config|configs|conf|settings)/|\.(ini|conf|cfg|properties|env)$|(^|/)(settings|config)\.(py|js|ts|ya?ml|json|toml)$|(^|/)\.env[^/]*$`)},
	{FeatureFlag, regexp.MustCompile(`(^|[/_.-])(feature[_-]?flags?|flags|toggles?|launchdarkly|unleash|flipper)([/_.-]|$)`)},
	{Generated, regexp.MustCompile(`(^|/)(vendor|node_modules|third_party|dist)/|\.pb\.go$|_pb2\.py$|\.pb\.(cc|h)$|_generated\.[^/]+$|\.gen\.[^/]+$|zz_generated[^/]*$|\.min\.(js|css)$|(^|/)(package-lock\.json|yarn\.lock|pnpm-lock\.yaml|go\.sum|cargo\.lock|poetry\.lock|gemfile\.lock|composer\.lock)$|\.snap$`)},
	{Tests, regexp.MustCompile(`(^|/)(tests?|__tests__|spec|specs|testdata|fixtures|e2e|cypress)/|_test\.go$|(^|/)test_[^/]+\.py$|_test\.py$|\.(test|spec)\.(js|jsx|ts|tsx|mjs)$|_spec\.rb$`)},
	{Docs, regexp.MustCompile(`\.(md|mdx|rst|adoc|txt)$|(^|/)(docs?|documentation)/|(^|/)(license|licence|notice|authors|contributors|changelog|codeowners)(\.[a-z]+)?$`)},
}

// Classes returns the classes of a path.
func Classes(p string) []Class {
	lp := strings.ToLower(path.Clean("/" + p))[1:]
	var out []Class
	for _, r := range rules {
		if r.re.MatchString(lp) || r.class == Tests && javaStyleTest(p) {
			out = append(out, r.class)
		}
	}
	// Docs under tests are tests; requirements.txt is a dependency list.
	if slices.Contains(out, Tests) || slices.Contains(out, Deps) {
		out = without(out, Docs)
	}
	return out
}

// javaStyleTest: FooTest.java, FooTests.cs — the case carries the meaning.
func javaStyleTest(p string) bool {
	for _, suffix := range []string{"Test.java", "Tests.java", "Test.kt", "Test.cs", "Tests.cs"} {
		if strings.HasSuffix(p, suffix) {
			return true
		}
	}
	return false
}

// Has tells whether a path has a class.
func Has(p string, c Class) bool { return slices.Contains(Classes(p), c) }

func without(cs []Class, c Class) []Class {
	out := cs[:0]
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}
