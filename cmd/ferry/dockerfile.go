package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferry-ci/ferry/internal/dockerfile"
)

// DockerfileCmd reports a Dockerfile's findings and, with --fix, the
// rewrite ferry would propose with its four checks.
type DockerfileCmd struct {
	Rules   bool     `name:"rules" help:"List the rules: what each finds, why it matters, its public counterpart (hadolint, Docker's guide, BuildKit)."`
	Fix     bool     `name:"fix" help:"Also print the rewritten Dockerfile and the checks it passed."`
	Write   bool     `name:"write" help:"With --fix: write a rewrite that passed every check back to its file."`
	Format  string   `name:"format" default:"text" enum:"text,json" help:"text or json."`
	Context string   `name:"context" help:"The build context, for rules that read it (lockfiles, .dockerignore); default: each Dockerfile's directory."`
	Files   []string `arg:"" optional:"" name:"FILE" help:"Dockerfiles." type:"existingfile"`
}

// dockerfileReport is one file's JSON output.
type dockerfileReport struct {
	File     string               `json:"file"`
	Error    string               `json:"error,omitempty"`
	Findings []dockerfile.Finding `json:"findings"`
	*dockerfile.Rewrite
	Rewritten *string `json:"rewritten,omitempty"`
}

// Run implements the command.
func (c *DockerfileCmd) Run(e *env) error {
	if c.Write && !c.Fix {
		return usageError{"--write needs --fix"}
	}
	if c.Rules {
		return c.listRules(e)
	}
	if len(c.Files) == 0 {
		return usageError{"name at least one Dockerfile (or --rules)"}
	}
	var reports []dockerfileReport
	failed := false
	for _, name := range c.Files {
		rep := c.one(e, name)
		failed = failed || rep.Error != ""
		reports = append(reports, rep)
	}
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"files": reports}); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			writeDockerfileText(e.stdout, r)
		}
	}
	if failed {
		return fmt.Errorf("some files could not be read as Dockerfiles")
	}
	return nil
}

func (c *DockerfileCmd) one(e *env, name string) dockerfileReport {
	rep := dockerfileReport{File: name, Findings: []dockerfile.Finding{}}
	src, err := readBounded(name, dockerfile.MaxSize)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	f, err := dockerfile.Parse(src)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	dir := c.Context
	if dir == "" {
		dir = filepath.Dir(name)
	}
	o := dockerfile.Options{Context: contextReader(dir), Name: filepath.Base(name)}
	rep.Findings = dockerfile.Analyze(f, o)
	if !c.Fix {
		return rep
	}
	rw, err := dockerfile.Fix(e.ctx, f, o)
	if err != nil {
		rep.Error = err.Error()
		return rep
	}
	text := string(rw.Text)
	rep.Rewrite, rep.Rewritten = &rw, &text
	if c.Write && rw.Changed() && rw.Checks.OK() {
		if err := os.WriteFile(name, rw.Text, 0o644); err != nil {
			rep.Error = err.Error()
		}
	}
	return rep
}

// contextReader reads files of a build context directory; nothing outside
// it, nothing large.
func contextReader(dir string) func(string) ([]byte, bool) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	return func(name string) ([]byte, bool) {
		if st, err := root.Stat(name); err == nil && st.IsDir() {
			return nil, true
		}
		fh, err := root.Open(name)
		if err != nil {
			return nil, false
		}
		defer fh.Close()
		data, err := io.ReadAll(io.LimitReader(fh, 1<<20))
		return data, err == nil
	}
}

func readBounded(name string, limit int64) ([]byte, error) {
	fh, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", name, limit)
	}
	return data, nil
}

func writeDockerfileText(w io.Writer, r dockerfileReport) {
	if r.Error != "" {
		fmt.Fprintf(w, "%s: %s\n", r.File, r.Error)
		return
	}
	for _, fd := range r.Findings {
		fix := ""
		if fd.Fixable {
			fix = " (fixable)"
		}
		fmt.Fprintf(w, "%s:%d: [%s] stage %s: %s%s\n", r.File, fd.Line, fd.Rule, fd.Stage, fd.Message, fix)
	}
	if len(r.Findings) == 0 {
		fmt.Fprintf(w, "%s: no findings\n", r.File)
	}
	if r.Rewrite == nil {
		return
	}
	ck := r.Checks
	fmt.Fprintf(w, "\n%s: %d rewritten, %d dropped — checks: parses %s, llb %s, contract %s, fewer findings %s\n",
		r.File, len(r.Applied), len(r.Dropped), mark(ck.Parses), mark(ck.LLB), mark(ck.Contract), mark(ck.FewerFindings))
	for _, d := range r.Dropped {
		fmt.Fprintf(w, "  dropped %s at line %d: %s\n", d.Rule, d.Line, d.Why)
	}
	if r.Changed() {
		fmt.Fprintf(w, "----- %s (rewritten)\n%s", r.File, *r.Rewritten)
		if !strings.HasSuffix(*r.Rewritten, "\n") {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, "-----")
	}
}

func mark(ok bool) string {
	if ok {
		return "✓"
	}
	return "✗"
}

func (c *DockerfileCmd) listRules(e *env) error {
	if c.Format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(dockerfile.Rules)
	}
	for _, r := range dockerfile.Rules {
		fix := "suggests"
		if r.Fixes {
			fix = "rewrites (proven)"
		}
		fmt.Fprintf(e.stdout, "%s — %s [%s; %s]\n  why: %s\n  effect: %s\n", r.ID, r.Title, r.Refs, fix, r.Why, r.Effect)
	}
	return nil
}
