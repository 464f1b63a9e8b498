// Package mdtest reads Markdown as GitHub renders it — CommonMark with
// GitHub's extensions (tables, autolinks, strikethrough, task lists), by
// goldmark — to tell a test what a comment would show: any link, image or
// HTML tag beyond the ones ferry writes itself, and any @mention outside
// code. Test-only.
package mdtest

import (
	"bytes"
	"regexp"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

var gfm = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

// ferryTags are the HTML tags Markdown itself produces, and the few ferry
// writes on purpose (<sub>, <details>, <summary>).
var ferryTags = map[string]bool{
	"p": true, "code": true, "pre": true, "strong": true, "em": true, "del": true, "table": true, "thead": true,
	"tbody": true, "tr": true, "th": true, "td": true, "ul": true, "ol": true, "li": true, "blockquote": true, "hr": true,
	"br": true, "h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true, "input": true,
	"sub": true, "details": true, "summary": true,
}

var (
	tag     = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)`)
	code    = regexp.MustCompile(`(?s)<code>.*?</code>|<pre>.*?</pre>`)
	mention = regexp.MustCompile(`(^|[^\w/` + "`" + `])@[A-Za-z0-9][A-Za-z0-9-]*`)
	comment = regexp.MustCompile(`(?s)<!--.*?-->`)
)

// Problems lists what the Markdown would render that ferry must never post
// from what a user or a repository wrote: links, images, raw HTML other
// than ferry's own tags, and mentions.
func Problems(src string) []string {
	src = comment.ReplaceAllString(src, "") // ferry's hidden markers
	var out bytes.Buffer
	if err := gfm.Convert([]byte(src), &out); err != nil {
		return []string{"does not render: " + err.Error()}
	}
	rendered := out.String()
	var probs []string
	for _, m := range tag.FindAllStringSubmatch(rendered, -1) {
		if !ferryTags[strings.ToLower(m[2])] {
			probs = append(probs, "renders <"+m[1]+m[2]+">")
		}
	}
	outside := code.ReplaceAllString(rendered, "")
	for _, m := range mention.FindAllString(outside, -1) {
		probs = append(probs, "mentions "+strings.TrimSpace(m))
	}
	return probs
}

// Hostile are names a user or a repository could choose to break out of
// ferry's Markdown: a backtick in a path, a team mention, an image, an HTML
// closer, a fence closer, a bare link.
var Hostile = []string{
	"src/a`b.go",
	"@org/all",
	"![x](https://evil.example/x.png)",
	"</details><img src=x onerror=alert(1)>",
	"```",
	"docs/``@org/all``.md",
	"https://evil.example/login",
	"[click](javascript:alert(1))",
}
