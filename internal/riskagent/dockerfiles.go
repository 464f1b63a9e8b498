package riskagent

import (
	"context"
	"path"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/dockerfile"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/render"
)

// Bounds on what a pull request's Dockerfiles cost: their content is the
// pull request's.
const (
	maxDockerfiles     = 20 // Dockerfiles read per pull request
	maxDockerfileNotes = 50 // findings kept per pull request
)

// dockerfileNotes reads the Dockerfiles a pull request changes, at its
// head, and keeps the findings on the lines it touched: the author sees
// what their change brings, not the file's whole past.
func dockerfileNotes(ctx context.Context, head *git.Tree, ch change.Change) []render.DockerfileNote {
	var out []render.DockerfileNote
	read := 0
	for _, f := range ch.Files {
		if f.Status == change.Removed || !dockerfile.IsDockerfile(f.Path) || read == maxDockerfiles || ctx.Err() != nil {
			continue
		}
		touched := map[int]bool{}
		for _, l := range change.AddedLines(f.Patch) {
			touched[l.Number] = true
		}
		if len(touched) == 0 {
			continue
		}
		read++
		data, err := head.Read(f.Path)
		if err != nil || len(data) > dockerfile.MaxSize {
			continue
		}
		df, err := dockerfile.Parse(data)
		if err != nil {
			continue // not a Dockerfile BuildKit reads: CI's build will say so
		}
		// The build context is the Dockerfile's directory, nothing above it.
		o := dockerfile.Options{Name: path.Base(f.Path), Context: head.Context(path.Dir(f.Path))}
		for _, fd := range dockerfile.Touching(df, dockerfile.Analyze(df, o), touched) {
			if len(out) == maxDockerfileNotes {
				return out
			}
			out = append(out, render.NewDockerfileNote(f.Path, fd))
		}
	}
	return out
}

// dockerfileAnnotations marks the findings' lines in the check run.
func dockerfileAnnotations(notes []render.DockerfileNote) []forge.Annotation {
	var out []forge.Annotation
	for _, n := range notes {
		msg := n.Message + ": " + n.Why + "."
		if n.Fixable {
			msg += " /ferry optimize-dockerfile proposes a checked rewrite."
		} else if n.Suggestion != "" {
			msg += "\nConsider:\n" + n.Suggestion
		}
		title := n.Title
		if n.Refs != "" {
			title += " (" + n.Refs + ")"
		}
		out = append(out, forge.Annotation{Path: n.Path, StartLine: n.Line, EndLine: n.Line, Level: "warning", Title: title, Message: msg})
	}
	return out
}
