package release

import (
	"regexp"
	"strconv"
	"strings"
)

// Header is a commit subject read as a Conventional Commits header,
// "type(scope)!: description".
type Header struct {
	Type        string // canonical ("feat", "fix", …) when Conventional
	Scope       string // also the area of a Go-style "net/http: …" subject
	Breaking    bool   // "!" before the colon
	Description string // the rest; the whole subject when nothing parses
	// Conventional: Type is one of the known types.
	Conventional bool
}

// types maps each accepted type, lower-cased, to its canonical name.
var types = map[string]string{
	"feat": "feat", "feature": "feat", "features": "feat",
	"fix": "fix", "bugfix": "fix", "hotfix": "fix",
	"perf": "perf", "revert": "revert", "docs": "docs", "doc": "docs", "refactor": "refactor",
	"deps": "deps", "build": "build", "ci": "ci", "test": "test", "tests": "test",
	"chore": "chore", "style": "style", "security": "security",
}

// Limits that keep prose from being read as a header: "Note (see the
// issue about it): …" is not a type and a scope.
const (
	maxType  = 16
	maxScope = 64
)

// ParseHeader reads a subject. It is hand-written (DESIGN.md §5): a type
// of letters (digits after the first: "i18n"), an optional non-empty "(scope)", an optional "!", then ":"
// and at least one space before a non-empty description. Types are read
// case-insensitively and aliases folded (feature → feat, bugfix → fix).
// A subject of an unknown type and no scope, such as Go's "net/http: fix
// …" or "TSDB: …", keeps its prefix as the scope.
func ParseHeader(subject string) Header { return parseHeader(subject, nil) }

// parseHeader is ParseHeader that also knows the types a repository
// configures (Config.Types), lower-cased.
func parseHeader(subject string, extra map[string]string) Header {
	s := strings.TrimSpace(subject)
	whole := Header{Description: s}
	i := 0
	for i < len(s) && i <= maxType && (isLetter(s[i]) || i > 0 && s[i] >= '0' && s[i] <= '9') {
		i++
	}
	if i == 0 || i > maxType {
		return area(s)
	}
	h := Header{Type: strings.ToLower(s[:i])}
	rest := s[i:]
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return whole
		}
		h.Scope = strings.TrimSpace(rest[1:end])
		if h.Scope == "" || len(h.Scope) > maxScope || strings.ContainsAny(h.Scope, "()") {
			return whole
		}
		rest = rest[end+1:]
	}
	if strings.HasPrefix(rest, "!") {
		h.Breaking, rest = true, rest[1:]
	}
	if !strings.HasPrefix(rest, ": ") && !strings.HasPrefix(rest, ":\t") {
		return area(s)
	}
	h.Description = strings.TrimSpace(rest[1:])
	if h.Description == "" {
		return whole
	}
	if canon, ok := types[h.Type]; ok {
		h.Type, h.Conventional = canon, true
		return h
	}
	if _, ok := extra[h.Type]; ok {
		h.Conventional = true
		return h
	}
	if h.Scope == "" && !h.Breaking {
		return area(s)
	}
	return whole
}

// area reads "area: description" subjects — Go's "net/http, os: …",
// "tsdb: …", "UI: …": one or more paths without spaces before ": ".
// Anything else is kept whole.
func area(s string) Header {
	prefix, desc, ok := strings.Cut(s, ": ")
	desc = strings.TrimSpace(desc)
	if !ok || desc == "" || len(prefix) > maxScope || !areaRe.MatchString(prefix) {
		return Header{Description: s}
	}
	return Header{Scope: prefix, Description: desc}
}

var areaRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9/._-]*(, ?[A-Za-z0-9][A-Za-z0-9/._-]*)*$`)

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// bracketTags are the "[BUGFIX] …" tags some projects (Prometheus) put
// before a subject, and the types they mean.
var bracketTags = map[string]string{
	"FEATURE": "feat", "ENHANCEMENT": "feat", "BUGFIX": "fix", "FIX": "fix", "PERF": "perf", "SECURITY": "security",
	"CHANGE": "refactor", "DOCS": "docs", "TEST": "test", "TESTS": "test", "CI": "ci", "CHORE": "chore",
}

// ParseBracketTag reads a subject that starts with a tag such as
// "[BUGFIX]" or "[ENHANCEMENT]" as a typed header (the rest may have an
// area). ok is false for any other subject.
func ParseBracketTag(subject string) (Header, bool) { return parseBracketTag(subject, nil) }

func parseBracketTag(subject string, extra map[string]string) (Header, bool) {
	s := strings.TrimSpace(subject)
	if !strings.HasPrefix(s, "[") {
		return Header{}, false
	}
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Header{}, false
	}
	typ, ok := bracketTags[strings.ToUpper(strings.TrimSpace(s[1:end]))]
	rest := strings.TrimSpace(s[end+1:])
	if !ok || rest == "" {
		return Header{}, false
	}
	h := parseHeader(rest, extra)
	if h.Conventional {
		return h, true
	}
	return Header{Type: typ, Scope: h.Scope, Description: h.Description, Conventional: true}, true
}

// breakingRe finds a breaking-change footer: "BREAKING CHANGE: …" or
// "BREAKING-CHANGE: …" at the start of a body line (upper case, as the
// specification says; the plural is common and accepted).
var breakingRe = regexp.MustCompile(`(?m)^BREAKING[ -]CHANGES?: *(.*)$`)

// BreakingNote returns the text of a message's breaking-change footer
// (the footer's line and the lines that continue it, up to a blank line)
// and whether there is one. The subject line is not a footer.
func BreakingNote(message string) (string, bool) {
	_, body, _ := strings.Cut(message, "\n")
	m := breakingRe.FindStringSubmatchIndex(body)
	if m == nil {
		return "", false
	}
	note := []string{strings.TrimSpace(body[m[2]:m[3]])}
	for _, l := range strings.Split(body[m[1]:], "\n")[1:] {
		l = strings.TrimSpace(l)
		if l == "" || trailerRe.MatchString(l) {
			break
		}
		note = append(note, l)
	}
	return strings.TrimSpace(strings.Join(note, " ")), true
}

// trailerRe is a git trailer ("Signed-off-by: …"), which ends a footer.
var trailerRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*: `)

var (
	mergePRRe = regexp.MustCompile(`^Merge pull request #([0-9]{1,9}) from \S`)
)

// SubjectPR strips the "(#123)" GitHub appends to a squash merge's subject
// and returns the number. Several ("x (#12) (#34)": a cherry-pick of a
// squash) are all stripped; the last one is the pull request that landed
// it here.
func SubjectPR(subject string) (string, int) {
	pr := 0
	for {
		rest, n, ok := cutPRSuffix(subject)
		if !ok {
			return subject, pr
		}
		if pr == 0 {
			pr = n
		}
		subject = rest
	}
}

// cutPRSuffix cuts one trailing "(#N)" and the spaces around it.
func cutPRSuffix(s string) (string, int, bool) {
	t := strings.TrimRight(s, " \t")
	if !strings.HasSuffix(t, ")") {
		return s, 0, false
	}
	open := strings.LastIndex(t, "(#")
	if open < 0 {
		return s, 0, false
	}
	digits := t[open+2 : len(t)-1]
	if len(digits) == 0 || len(digits) > 9 || strings.Trim(digits, "0123456789") != "" {
		return s, 0, false
	}
	n, _ := strconv.Atoi(digits)
	return strings.TrimRight(t[:open], " \t"), n, true
}

// MergePR reads GitHub's merge commit message, "Merge pull request #123
// from owner/branch" with the pull request's title as the first non-empty
// body line. ok is false for any other message.
func MergePR(message string) (pr int, title string, ok bool) {
	subj, body, _ := strings.Cut(message, "\n")
	m := mergePRRe.FindStringSubmatch(strings.TrimSpace(subj))
	if m == nil {
		return 0, "", false
	}
	pr, _ = strconv.Atoi(m[1])
	for _, l := range strings.Split(body, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return pr, l, true
		}
	}
	return pr, "", true
}

// Subject is a message's first line.
func Subject(message string) string {
	s, _, _ := strings.Cut(message, "\n")
	return strings.TrimSpace(s)
}

// RevertTitle reads a revert's subject — `Revert "X"`, `Revert X`,
// "revert: X", or git's `Reapply "X"` (a revert of a revert) — and
// returns X.
func RevertTitle(subject string) (inner string, ok bool) {
	s := strings.TrimSpace(subject)
	for _, p := range []string{"Revert ", "Reapply "} {
		if rest, found := strings.CutPrefix(s, p); found && strings.TrimSpace(rest) != "" {
			rest = strings.TrimSpace(rest)
			if len(rest) >= 2 && rest[0] == '"' && rest[len(rest)-1] == '"' {
				rest = rest[1 : len(rest)-1]
			}
			return rest, true
		}
	}
	if h := ParseHeader(s); h.Type == "revert" {
		return h.Description, true
	}
	return "", false
}

var (
	// git revert writes "This reverts commit <sha>."; a squash of several
	// reverts carries several. (change.Reverts finds the first only.)
	revertsSHARe = regexp.MustCompile(`This reverts commit ([0-9a-f]{7,40})`)
	// GitHub's "Revert" button opens a pull request whose body says
	// "Reverts owner/repo#123".
	revertsPRRe = regexp.MustCompile(`(?m)^Reverts (?:[\w.-]+/[\w.-]+)?#([0-9]{1,9})\b`)
)

// RevertTargets lists the commits (full or abbreviated SHAs) and pull
// requests a message says it reverts.
func RevertTargets(message string) (shas []string, prs []int) {
	for _, m := range revertsSHARe.FindAllStringSubmatch(message, -1) {
		shas = append(shas, m[1])
	}
	for _, m := range revertsPRRe.FindAllStringSubmatch(message, -1) {
		n, _ := strconv.Atoi(m[1])
		prs = append(prs, n)
	}
	return shas, prs
}

var coAuthorRe = regexp.MustCompile(`(?mi)^Co-authored-by: *(.*?) *<([^>]*)> *$`)

// CoAuthors reads a message's "Co-authored-by: Name <email>" trailers.
func CoAuthors(message string) []Author {
	var out []Author
	for _, m := range coAuthorRe.FindAllStringSubmatch(message, -1) {
		out = append(out, Author{Name: strings.TrimSpace(m[1]), Email: m[2]})
	}
	return out
}

// loginFromEmail reads the login out of GitHub's no-reply addresses,
// "123+login@users.noreply.github.com" or "login@users.noreply.github.com".
func loginFromEmail(email string) string {
	const domain = "@users.noreply.github.com"
	if len(email) <= len(domain) || !strings.EqualFold(email[len(email)-len(domain):], domain) {
		return ""
	}
	local := email[:len(email)-len(domain)]
	if _, after, found := strings.Cut(local, "+"); found {
		return after
	}
	return local
}
