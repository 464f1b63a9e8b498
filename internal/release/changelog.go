package release

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// ChangelogRelease is one release to write into a changelog.
type ChangelogRelease struct {
	Version string
	Date    time.Time // the release day; its UTC date is written
	// Body is the section's Markdown below its heading ("### Features
	// …"), as render.Renderer.ReleaseChangelog makes it.
	Body string
	// Tag and PreviousTag name the compare view linked when RepoURL
	// ("https://github.com/OWNER/REPO") is set.
	Tag, PreviousTag, RepoURL string
}

// changelogHeader starts a new changelog, as Keep a Changelog does.
const changelogHeader = `# Changelog

All notable changes to this project are documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).
`

var (
	// A release heading: "## [1.2.3] - 2026-01-02", "## 1.2.3", "## v1.2.3
	// (2026-01-02)", conventional-changelog's "# [2.0.0](…) (…)".
	releaseHeadingRe = regexp.MustCompile(`^#{1,2}\s+\[?v?([0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)\]?`)
	unreleasedRe     = regexp.MustCompile(`(?i)^##\s+\[?unreleased\]?\s*$`)
	linkDefRe        = regexp.MustCompile(`^\[([^\]]+)\]:\s*\S+`)
)

// InsertChangelog adds a release to a Keep a Changelog file, newest first:
// after the header and the [Unreleased] section, whose notes move into
// the new release, before the previous release. With RepoURL it links
// the version to the compare view (and moves [Unreleased]'s link on). An
// empty old makes a new file. Inserting a version the file already has
// changes nothing: changed is false.
func InsertChangelog(old []byte, r ChangelogRelease) (out []byte, changed bool, err error) {
	if _, err := parseVersion(r.Version); err != nil {
		return nil, false, err
	}
	text := string(old)
	if strings.TrimSpace(text) == "" {
		text = changelogHeader
	}
	nl := "\n"
	if strings.Contains(text, "\r\n") {
		nl, text = "\r\n", strings.ReplaceAll(text, "\r\n", "\n")
	}
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	doc := scanChangelog(lines)
	if doc.versions[r.Version] {
		return old, false, nil
	}
	section := []string{fmt.Sprintf("## [%s] - %s", r.Version, r.Date.UTC().Format("2006-01-02")), ""}
	if doc.unreleased >= 0 { // its notes are this release's now
		if moved := trimBlank(lines[doc.unreleased+1 : doc.unreleasedEnd]); len(moved) > 0 {
			section = append(append(section, moved...), "")
		}
		lines = append(lines[:doc.unreleased+1:doc.unreleased+1], append([]string{""}, lines[doc.unreleasedEnd:]...)...)
		doc = scanChangelog(lines)
	}
	if body := strings.Trim(r.Body, "\n"); body != "" {
		section = append(section, strings.Split(body, "\n")...)
	} else if len(section) == 2 {
		section = append(section, "No notable changes.")
	}
	at := doc.insertAt(lines)
	if at > 0 && strings.TrimSpace(lines[at-1]) != "" {
		section = append([]string{""}, section...)
	}
	if at < len(lines) {
		section = append(section, "")
	}
	lines = append(lines[:at:at], append(section, lines[at:]...)...)
	if r.RepoURL != "" {
		lines = links(lines, r)
	}
	return []byte(strings.Join(trimBlank(lines), nl) + nl), true, nil
}

// changelogDoc is where things are in a changelog's lines.
type changelogDoc struct {
	unreleased    int // the [Unreleased] heading, or -1
	unreleasedEnd int // the line after its notes
	firstRelease  int // the newest release's heading, or -1
	firstDef      int // the first link reference definition, or len(lines)
	versions      map[string]bool
}

// scanChangelog finds the headings, outside fenced code.
func scanChangelog(lines []string) changelogDoc {
	d := changelogDoc{unreleased: -1, unreleasedEnd: -1, firstRelease: -1, firstDef: len(lines), versions: map[string]bool{}}
	fenced := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fenced = !fenced
		}
		heading := !fenced && (strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "## "))
		if d.unreleased >= 0 && d.unreleasedEnd < 0 && (heading || linkDefRe.MatchString(t)) {
			d.unreleasedEnd = i
		}
		switch {
		case fenced:
		case unreleasedRe.MatchString(t):
			d.unreleased = i
		case releaseHeadingRe.MatchString(t):
			d.versions[releaseHeadingRe.FindStringSubmatch(t)[1]] = true
			if d.firstRelease < 0 {
				d.firstRelease = i
			}
		case linkDefRe.MatchString(t) && d.firstDef == len(lines):
			d.firstDef = i
		}
	}
	if d.unreleased >= 0 && d.unreleasedEnd < 0 {
		d.unreleasedEnd = len(lines)
	}
	return d
}

// insertAt is where a new release goes: before the newest release, else
// after [Unreleased], else before the link definitions at the end.
func (d changelogDoc) insertAt(lines []string) int {
	switch {
	case d.firstRelease >= 0:
		return d.firstRelease
	case d.unreleased >= 0:
		return d.unreleasedEnd
	}
	at := d.firstDef
	for at > 0 && strings.TrimSpace(lines[at-1]) == "" {
		at--
	}
	return at
}

func trimBlank(ls []string) []string {
	for len(ls) > 0 && strings.TrimSpace(ls[0]) == "" {
		ls = ls[1:]
	}
	for len(ls) > 0 && strings.TrimSpace(ls[len(ls)-1]) == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// links adds "[1.3.0]: …/compare/v1.2.0...v1.3.0" (or the release's tag
// page for a first release) and moves "[unreleased]: …/compare/v1.3.0...HEAD".
func links(lines []string, r ChangelogRelease) []string {
	base := strings.TrimSuffix(r.RepoURL, "/")
	def := fmt.Sprintf("[%s]: %s/releases/tag/%s", r.Version, base, r.Tag)
	if r.PreviousTag != "" {
		def = fmt.Sprintf("[%s]: %s/compare/%s...%s", r.Version, base, r.PreviousTag, r.Tag)
	}
	at := -1
	for i, l := range lines {
		m := linkDefRe.FindStringSubmatch(l)
		switch {
		case m == nil:
		case strings.EqualFold(m[1], "unreleased"):
			lines[i] = fmt.Sprintf("[%s]: %s/compare/%s...HEAD", m[1], base, r.Tag)
			at = i + 1
		case at < 0 && releaseHeadingRe.MatchString("## "+l):
			at = i
		}
	}
	if at < 0 {
		if strings.TrimSpace(lines[len(lines)-1]) != "" && !linkDefRe.MatchString(lines[len(lines)-1]) {
			lines = append(lines, "")
		}
		return append(lines, def)
	}
	return append(lines[:at:at], append([]string{def}, lines[at:]...)...)
}
