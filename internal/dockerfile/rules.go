package dockerfile

import (
	"sort"
)

// Rule is one thing ferry looks for.
type Rule struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Why    string `json:"why"`
	Effect string `json:"effect"`
	// Refs: the public rule it corresponds to (hadolint, Docker's guide, BuildKit's checks).
	Refs string `json:"refs,omitempty"`
	// Fixes: ferry may rewrite it on its own (when the rewrite is proven).
	Fixes bool `json:"fixes"`
}

// The rules, in the order findings are reported for one line.
var Rules = []Rule{
	{"cache-order", "Sources copied before dependencies are installed",
		"every edit of any source file invalidates the cache of the dependency install that follows it",
		"source edits reuse the cached dependency layer instead of reinstalling everything",
		"Docker best practices: leverage the build cache", true},
	{"build-tools-in-final", "Build tools in the final image",
		"compilers, SDK images and -dev packages ship in the image that runs, though nothing at runtime uses them",
		"a multi-stage build keeps them in a build stage: a smaller image with fewer packages to patch",
		"Docker best practices: use multi-stage builds", false},
	{"apt-update-alone", "apt-get update in its own layer",
		"a cached update layer serves stale package lists to a later install, which then fails or installs old versions",
		"update and install always run together, with fresh lists",
		"Docker best practices: apt-get (RUN apt-get update && apt-get install)", true},
	{"apt-no-install-recommends", "apt-get install without --no-install-recommends",
		"recommended packages are installed too, though nothing asked for them",
		"a smaller image with fewer packages", "hadolint DL3015", false},
	{"apt-lists-not-cleaned", "apt lists left in the image",
		"the package lists fetched by apt-get update stay in the layer",
		"tens of MB less per image", "hadolint DL3009", true},
	{"pip-no-cache-dir", "pip install without --no-cache-dir",
		"pip's download cache is written into the layer", "a smaller image", "hadolint DL3042", true},
	{"npm-ci", "npm install where a lockfile allows npm ci",
		"npm install may resolve other versions than the lockfile's and rewrite it",
		"reproducible installs of exactly the locked versions, usually faster", "npm docs: npm ci", false},
	{"apk-no-cache", "apk add without --no-cache",
		"apk's index and cache stay in the layer", "a smaller image", "hadolint DL3019", true},
	{"cache-mount", "No BuildKit cache mount for a package install",
		"with BuildKit a cache mount keeps downloads between builds without putting them in the image",
		"faster rebuilds when dependencies change", "Docker docs: RUN --mount=type=cache", false},
	{"base-unpinned", "Base image not pinned",
		"an untagged or latest base changes under the build: the same commit builds a different image",
		"reproducible builds; a digest also guards against a moved tag", "hadolint DL3006, DL3007", false},
	{"root-final", "Final stage runs as root",
		"a process running as root makes any container escape or file write worse",
		"the container runs with an unprivileged user", "hadolint DL3002", false},
	{"add-for-copy", "ADD where COPY is meant",
		"ADD also fetches URLs and unpacks archives: COPY says exactly what happens",
		"the same files copied, with no surprises", "hadolint DL3020", true},
	{"run-cd", "cd inside RUN",
		"the directory change is invisible to later instructions and easy to get wrong",
		"WORKDIR states the directory once for everything after it", "hadolint DL3003", false},
	{"secret-in-env", "Secret-like name in ENV or ARG",
		"ENV values stay in the image's configuration and ARG values in its history, readable by anyone who pulls it",
		"the secret reaches only the RUN that needs it (RUN --mount=type=secret)", "BuildKit check SecretsUsedInArgOrEnv", false},
	{"copy-all-no-dockerignore", "COPY . without a .dockerignore",
		"the whole context — .git, local builds, editor files, maybe credentials — is sent and copied",
		"a smaller context, fewer cache misses, no stray files in the image", "Docker docs: .dockerignore", false},
}

// RuleByID finds a rule.
func RuleByID(id string) (Rule, bool) {
	for _, r := range Rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// Finding is one thing found at one line of one stage.
type Finding struct {
	Rule    string `json:"rule"`
	Line    int    `json:"line"`
	Stage   string `json:"stage"`
	Message string `json:"message"`
	// Suggestion is exact text to consider where ferry does not edit.
	Suggestion string `json:"suggestion,omitempty"`
	// Fixable: an automatic rewrite exists (it is still proven before use).
	Fixable bool  `json:"fixable"`
	fix     *edit // the rewrite, when Fixable
}

// edit replaces lines From..To (1-based, inclusive) with Text. Origin,
// when set, names for each line of Text the line it comes from (0: one
// ferry wrote); else line i is From+i while within To, then ferry's.
type edit struct {
	From, To int
	Text     string
	Origin   []int
}

// Options says what is known around the Dockerfile.
type Options struct {
	// Context reads a file of the build context by its slash path from the
	// context root (a directory: nil, true); nil when the context is
	// unknown (rules that need it then suggest instead of rewriting, or
	// stay silent).
	Context func(name string) ([]byte, bool)
	// Name is the Dockerfile's base name, for <name>.dockerignore.
	Name string
	// unreadBefore: RUNs of the original the shell parser refused (Fix sets it).
	unreadBefore int
}

func (o Options) has(name string) bool {
	if o.Context == nil {
		return false
	}
	_, ok := o.Context(name)
	return ok
}

// MaxFindings bounds a report.
const MaxFindings = 500

// Analyze reports a file's findings, by line.
func Analyze(f *File, o Options) []Finding {
	var out []Finding
	checks := []func(*File, Options) []Finding{
		cacheOrder, buildTools, aptRules, pipNoCache, npmCI, apkNoCache, cacheMount,
		baseUnpinned, rootFinal, addForCopy, runCd, secretInEnv, copyAllNoIgnore,
	}
	for _, c := range checks {
		out = append(out, c(f, o)...)
	}
	order := map[string]int{}
	for i, r := range Rules {
		order[r.ID] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Line != out[j].Line {
			return out[i].Line < out[j].Line
		}
		return order[out[i].Rule] < order[out[j].Rule]
	})
	if len(out) > MaxFindings {
		out = out[:MaxFindings]
	}
	return out
}
