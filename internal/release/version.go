package release

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Bump is how far a release moves the version.
type Bump string

// Bumps, smallest first.
const (
	BumpNone  Bump = "none"
	BumpPatch Bump = "patch"
	BumpMinor Bump = "minor"
	BumpMajor Bump = "major"
)

func (b Bump) rank() int {
	switch b {
	case BumpPatch:
		return 1
	case BumpMinor:
		return 2
	case BumpMajor:
		return 3
	case BumpNone:
	}
	return 0
}

func maxBump(a, b Bump) Bump {
	if b.rank() > a.rank() {
		return b
	}
	return a
}

var prereleaseRe = regexp.MustCompile(`^[0-9A-Za-z-]+$`)

// parseVersion reads a semantic version strictly (a tag's "v" is the
// pattern's, not the version's).
func parseVersion(s string) (*semver.Version, error) {
	v, err := semver.StrictNewVersion(s)
	if err != nil {
		return nil, fmt.Errorf("version %q: %w", s, err)
	}
	return v, nil
}

// ParseTag reads the version out of a tag named by pattern ("v{version}":
// "v1.2.3" is 1.2.3); ok is false when the tag does not follow it.
func ParseTag(pattern, tag string) (version string, ok bool) {
	prefix, suffix, found := strings.Cut(pattern, "{version}")
	if !found || !strings.HasPrefix(tag, prefix) || !strings.HasSuffix(tag, suffix) || len(tag) < len(prefix)+len(suffix) {
		return "", false
	}
	v, err := parseVersion(tag[len(prefix) : len(tag)-len(suffix)])
	if err != nil {
		return "", false
	}
	return v.String(), true
}

// TagFor names a version's tag under pattern.
func TagFor(pattern, version string) string {
	return strings.Replace(pattern, "{version}", version, 1)
}

// IsPrerelease tells whether a version is a pre-release ("1.3.0-rc.1").
func IsPrerelease(version string) bool {
	v, err := parseVersion(version)
	return err == nil && v.Prerelease() != ""
}

// CompareVersions orders two versions by semver precedence (-1, 0, 1);
// versions that do not parse sort first.
func CompareVersions(a, b string) int {
	va, ea := parseVersion(a)
	vb, eb := parseVersion(b)
	switch {
	case ea != nil && eb != nil:
		return 0
	case ea != nil:
		return -1
	case eb != nil:
		return 1
	}
	return va.Compare(vb)
}

// NextVersion is the version a release of bump makes after previous (""
// for the first release: the configured initial version). Below 1.0.0,
// under BelowOneShift, a breaking change bumps the minor version and a
// feature the patch. With a pre-release channel the result is the next
// "-CHANNEL.N" of the target version: 1.2.0 and a feature give
// 1.3.0-rc.1, then 1.3.0-rc.2; a pre-release previous version that
// already reaches far enough keeps its target (1.3.0-rc.2 and a fix give
// 1.3.0-rc.3, or 1.3.0 on the stable channel). BumpNone: "" (no release).
func NextVersion(previous string, bump Bump, c Config) (string, error) {
	c = c.withDefaults()
	if bump == BumpNone || bump == "" {
		return "", nil
	}
	if previous == "" {
		v, err := parseVersion(c.InitialVersion)
		if err != nil {
			return "", err
		}
		return onChannel(*v, nil, c.Prerelease)
	}
	p, err := parseVersion(previous)
	if err != nil {
		return "", fmt.Errorf("previous version: %w", err)
	}
	return onChannel(reach(*p, EffectiveBump(previous, bump, c)), p, c.Prerelease)
}

// EffectiveBump is what bump does to the version after previous: below
// 1.0.0, under BelowOneShift, a breaking change moves the minor version
// and a feature the patch.
func EffectiveBump(previous string, bump Bump, c Config) Bump {
	c = c.withDefaults()
	p, err := parseVersion(previous)
	if err != nil || p.Major() != 0 || c.BelowOne != BelowOneShift {
		return bump
	}
	return map[Bump]Bump{BumpMajor: BumpMinor, BumpMinor: BumpPatch, BumpPatch: BumpPatch, BumpNone: BumpNone}[bump]
}

// reach is the release version bump reaches from p. A pre-release is on
// its way to its own core version, which may already be far enough.
func reach(p semver.Version, bump Bump) semver.Version {
	if p.Prerelease() == "" {
		switch bump {
		case BumpMajor:
			return p.IncMajor()
		case BumpMinor:
			return p.IncMinor()
		case BumpPatch, BumpNone:
		}
		return p.IncPatch()
	}
	core := *semver.New(p.Major(), p.Minor(), p.Patch(), "", "")
	switch {
	case bump == BumpMajor && (p.Minor() != 0 || p.Patch() != 0):
		return core.IncMajor()
	case bump == BumpMinor && p.Patch() != 0:
		return core.IncMinor()
	}
	return core
}

// onChannel puts a target version on a pre-release channel: "-rc.1", or
// the number after the previous version's when it is the same target's.
func onChannel(t semver.Version, prev *semver.Version, channel string) (string, error) {
	if channel == "" {
		return t.String(), nil
	}
	n := 1
	if prev != nil && prev.Major() == t.Major() && prev.Minor() == t.Minor() && prev.Patch() == t.Patch() {
		if id, num, ok := strings.Cut(prev.Prerelease(), "."); ok && id == channel {
			if k, err := strconv.Atoi(num); err == nil {
				n = k + 1
			}
		}
	}
	v, err := t.SetPrerelease(channel + "." + strconv.Itoa(n))
	if err != nil {
		return "", fmt.Errorf("pre-release %q: %w", channel, err)
	}
	return v.String(), nil
}
