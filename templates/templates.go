// Package templates holds the Markdown templates ferry renders into PR
// comments, check-run summaries and PR bodies. They are embedded in the
// binary and parsed once, strictly, by internal/render (added with the
// first template: the risk comment).
package templates
