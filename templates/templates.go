// Package templates holds the Markdown and text templates ferry renders
// into PR comments, check-run summaries and its CLI output. They are
// embedded in the binary and parsed once, strictly, by internal/render.
package templates

import "embed"

// FS holds every template.
//
//go:embed *.tmpl
var FS embed.FS
