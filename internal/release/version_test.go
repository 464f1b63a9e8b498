package release

import "testing"

func TestNextVersion(t *testing.T) {
	rc := Config{Prerelease: "rc"}
	std := Config{BelowOne: BelowOneStandard}
	tests := []struct {
		prev string
		bump Bump
		cfg  Config
		want string
	}{
		{"1.2.3", BumpPatch, Config{}, "1.2.4"},
		{"1.2.3", BumpMinor, Config{}, "1.3.0"},
		{"1.2.3", BumpMajor, Config{}, "2.0.0"},
		{"1.2.3", BumpNone, Config{}, ""},
		{"0.3.1", BumpMajor, Config{}, "0.4.0"},
		{"0.3.1", BumpMinor, Config{}, "0.3.2"},
		{"0.3.1", BumpPatch, Config{}, "0.3.2"},
		{"0.3.1", BumpMajor, std, "1.0.0"},
		{"0.3.1", BumpMinor, std, "0.4.0"},
		{"", BumpPatch, Config{}, "0.1.0"},
		{"", BumpMajor, Config{InitialVersion: "1.0.0"}, "1.0.0"},
		{"", BumpNone, Config{}, ""},
		// pre-release channels
		{"1.2.3", BumpMinor, rc, "1.3.0-rc.1"},
		{"1.3.0-rc.1", BumpPatch, rc, "1.3.0-rc.2"},
		{"1.3.0-rc.9", BumpMinor, rc, "1.3.0-rc.10"},
		{"1.3.0-rc.2", BumpMajor, rc, "2.0.0-rc.1"},
		{"2.0.0-rc.2", BumpMajor, rc, "2.0.0-rc.3"},
		{"1.3.1-rc.1", BumpMinor, rc, "1.4.0-rc.1"},
		{"1.3.0-beta.4", BumpPatch, rc, "1.3.0-rc.1"},
		{"1.3.0-rc", BumpPatch, rc, "1.3.0-rc.1"},
		{"", BumpMinor, rc, "0.1.0-rc.1"},
		// leaving the channel: the target itself
		{"1.3.0-rc.2", BumpPatch, Config{}, "1.3.0"},
		{"1.3.0-rc.2", BumpMajor, Config{}, "2.0.0"},
		{"0.4.0-rc.1", BumpMajor, Config{}, "0.4.0"},
	}
	for _, tt := range tests {
		got, err := NextVersion(tt.prev, tt.bump, tt.cfg)
		if err != nil || got != tt.want {
			t.Errorf("NextVersion(%q, %s, %+v) = %q, %v; want %q", tt.prev, tt.bump, tt.cfg, got, err, tt.want)
		}
	}
	if _, err := NextVersion("1.2", BumpPatch, Config{}); err == nil {
		t.Error("a previous version that is not semver: no error")
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		pattern, tag, version string
		ok                    bool
	}{
		{"v{version}", "v1.2.3", "1.2.3", true},
		{"v{version}", "v1.2.3-rc.1", "1.2.3-rc.1", true},
		{"v{version}", "1.2.3", "", false},
		{"v{version}", "v1.2", "", false},
		{"v{version}", "api-v1.2.3", "", false},
		{"v{version}", "v01.2.3", "", false},
		{"api-v{version}", "api-v0.4.0", "0.4.0", true},
		{"{version}", "1.0.0", "1.0.0", true},
		{"release/{version}/final", "release/2.0.0/final", "2.0.0", true},
		{"release/{version}/final", "release/final", "", false},
	}
	for _, tt := range tests {
		v, ok := ParseTag(tt.pattern, tt.tag)
		if v != tt.version || ok != tt.ok {
			t.Errorf("ParseTag(%q, %q) = %q, %v", tt.pattern, tt.tag, v, ok)
		}
		if ok && TagFor(tt.pattern, v) != tt.tag {
			t.Errorf("TagFor(%q, %q) = %q", tt.pattern, v, TagFor(tt.pattern, v))
		}
	}
	if CompareVersions("1.3.0-rc.2", "1.3.0") != -1 || CompareVersions("1.10.0", "1.9.0") != 1 || !IsPrerelease("1.0.0-rc.1") || IsPrerelease("1.0.0") {
		t.Error("version order")
	}
}
