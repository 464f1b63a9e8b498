// Package md escapes text a user or a repository controls before ferry
// posts it as GitHub Markdown: it can close no code span or fence, start no
// block, render no link, image or HTML, and notify no one.
package md

import (
	"strings"
	"unicode/utf8"
)

// zwsp (a zero-width space, as an entity so it is visible in the source)
// after "@" keeps GitHub's mention filter, which runs on the rendered text,
// from notifying anyone; backslash escapes do not survive to that filter.
const zwsp = "&#8203;"

// Text escapes s as one line of inline Markdown text: every character
// that could make markup is backslash-escaped, "@" cannot mention, "://"
// and "www." cannot autolink, newlines become spaces. Safe in a table cell.
func Text(s string) string {
	s = oneLine(s)
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	lead := true // still at the start: block markers count only there
	for i, r := range s {
		switch {
		case strings.ContainsRune("\\`*_{}[]<>!|~$", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '&':
			b.WriteString("&amp;")
		case r == '@':
			b.WriteString("@" + zwsp)
		case lead && strings.ContainsRune("#+-=", r),
			r == ':' && strings.HasPrefix(s[i+1:], "//"),
			r == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www"),
			(r == '.' || r == ')') && allDigits(strings.TrimSpace(s[:i])) && i > 0:
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
		lead = lead && (r == ' ' || r >= '0' && r <= '9')
	}
	return b.String()
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Code renders s as an inline code span it cannot close: the fence is one
// backtick longer than the longest run inside, padded when s starts or ends
// with one. Links, HTML and mentions do not render in code. Not for table
// cells: a "|" inside would split the cell (use Text there).
func Code(s string) string {
	s = oneLine(s)
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if s == "" || strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// Truncate cuts s to at most n characters, marking the cut with "…", so a
// long value cannot crowd a comment (escape after truncating).
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:max(n-1, 0)]) + "…"
}

// oneLine replaces line breaks and other control characters with spaces:
// a new line could start a heading, a list, a fence or raw HTML.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// CellCode is Code for a table cell: GitHub splits cells at every "|",
// even inside a code span, unless it is escaped (the escape is not shown).
func CellCode(s string) string { return strings.ReplaceAll(Code(s), "|", `\|`) }

// Fence renders s as a fenced code block it cannot close: the fence is
// longer than any run of backticks or tildes inside, and control
// characters other than newlines and tabs become spaces. lang must be
// ferry's own word (it is not escaped).
func Fence(s, lang string) string {
	s = strings.Map(func(r rune) rune {
		if (r < ' ' && r != '\n' && r != '\t') || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.TrimRight(s, "\n"))
	fence := strings.Repeat("`", max(2, longestRun(s, '`'))+1)
	return fence + lang + "\n" + s + "\n" + fence
}

// longestRun is the length of the longest run of r in s.
func longestRun(s string, r rune) int {
	longest, run := 0, 0
	for _, c := range s {
		if c == r {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
