package dockerfile

import (
	"path"
	"regexp"
	"strings"
)

// sdkImages are base images made for building, not running.
var sdkImages = regexp.MustCompile(`^(golang|rust|maven|gradle|gcc|buildpack-deps|mcr\.microsoft\.com/dotnet/sdk|.*-jdk.*|.*/sdk)$`)

// buildPackages are compilers and headers a runtime rarely needs.
var buildPackages = regexp.MustCompile(`^(gcc|g\+\+|clang|make|cmake|build-essential|build-base|golang|golang-go|rustc|cargo|.*-dev|.*-devel)$`)

// buildTools reports a final stage that builds what it runs: an SDK image
// or compilers installed and never removed.
func buildTools(f *File, _ Options) []Finding {
	s := f.Final()
	base := imageBase(f, s)
	name, tag, _ := imageRef(base)
	name = strings.TrimPrefix(strings.TrimPrefix(name, "docker.io/"), "library/")
	if sdkImages.MatchString(name) || strings.Contains(tag, "jdk") || (path.Base(name) == "openjdk" && !strings.Contains(tag, "jre")) {
		fd := finding("build-tools-in-final", s, s.Line, "the final stage runs on `"+base+"`, an image for building")
		fd.Suggestion = multiStage(base)
		return []Finding{fd}
	}
	chain := []*Stage{s}
	for st := s; st.BaseStage >= 0; st = f.Stages[st.BaseStage] {
		chain = append(chain, f.Stages[st.BaseStage])
	}
	for _, st := range chain {
		for _, r := range runs(f, st) {
			if pkgs := installed(r); len(pkgs) > 0 && !removedLater(f, chain, pkgs) {
				fd := finding("build-tools-in-final", s, r.Line, "build tools stay in the final image: `"+strings.Join(pkgs, "`, `")+"`")
				fd.Suggestion = multiStage(base)
				return []Finding{fd}
			}
		}
	}
	return nil
}

// installed lists build packages a RUN installs with apt, apk, yum or dnf.
func installed(r run) []string {
	var out []string
	for _, c := range r.Calls {
		i, ok := c.is("install", "apt-get", "apt", "yum", "dnf", "microdnf")
		if !ok {
			i, ok = c.is("add", "apk")
		}
		if !ok {
			continue
		}
		for _, a := range c.Args[i+1:] {
			if buildPackages.MatchString(strings.SplitN(a, "=", 2)[0]) {
				out = append(out, a)
			}
		}
	}
	return out
}

// removedLater: some RUN of the chain purges or deletes one of pkgs (ferry
// then trusts the Dockerfile knows what it keeps).
func removedLater(f *File, chain []*Stage, pkgs []string) bool {
	for _, st := range chain {
		for _, r := range runs(f, st) {
			for _, c := range r.Calls {
				_, purge := c.is("purge", "apt-get", "apt")
				_, remove := c.is("remove", "apt-get", "apt", "yum", "dnf")
				_, del := c.is("del", "apk")
				_, auto := c.is("autoremove", "apt-get", "apt")
				if purge || remove || del || auto {
					return true
				}
			}
		}
	}
	return len(pkgs) == 0
}

func multiStage(base string) string {
	return "FROM " + base + " AS build\n# … the build steps …\n\nFROM <a runtime image: distroless, alpine or -slim>\nCOPY --from=build /path/to/output /app/\n# … only what runs …"
}
