package dockerfile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// runs lists a stage's shell-form RUN instructions, read (once: every
// rule asks).
func runs(f *File, s *Stage) []run {
	if f.runs == nil {
		f.runs = map[int][]run{}
	}
	if rs, ok := f.runs[s.Index]; ok {
		return rs
	}
	var out []run
	for _, in := range s.Instrs {
		if r, ok := readRun(f, in); ok {
			out = append(out, r)
		}
	}
	f.runs[s.Index] = out
	return out
}

// insert adds text after a word of a RUN (wordEnd: offset in r.Shell).
func (f *File) insert(r run, wordEnd int, text string) *edit {
	src := f.Text(r.Line, r.End)
	at := r.offset + wordEnd
	return &edit{From: r.Line, To: r.End, Text: src[:at] + text + src[at:]}
}

// appendTo adds text at the end of a RUN's shell.
func (f *File) appendTo(r run, text string) *edit {
	src := strings.TrimRight(f.Text(r.Line, r.End), " \t")
	return &edit{From: r.Line, To: r.End, Text: src + text}
}

func finding(rule string, s *Stage, line int, msg string) Finding {
	return Finding{Rule: rule, Line: line, Stage: s.Label(), Message: msg}
}

func aptRules(f *File, o Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		rs := runs(f, s)
		for i, r := range rs {
			out = append(out, aptInstall(f, s, r)...)
			if fd, ok := aptLists(f, s, r); ok {
				out = append(out, fd)
			}
			if fd, ok := aptAlone(f, s, r, rs[i+1:]); ok {
				out = append(out, fd)
			}
		}
	}
	return out
}

func aptInstall(f *File, s *Stage, r run) []Finding {
	var out []Finding
	for _, c := range r.Calls {
		i, ok := c.is("install", "apt-get", "apt")
		if !ok || c.has("--no-install-recommends") || strings.Contains(strings.Join(c.Args, " "), "Install-Recommends") {
			continue
		}
		// A suggestion only: a recommended package may be what the build
		// needs next (curl's ca-certificates), which no check here sees.
		fd := finding("apt-no-install-recommends", s, r.Line, "`apt-get install` installs recommended packages too")
		fd.Suggestion = strings.Join(c.Args[c.start():i+1], " ") + " --no-install-recommends …"
		out = append(out, fd)
	}
	return out
}

func aptUpdates(r run) bool {
	for _, c := range r.Calls {
		if _, ok := c.is("update", "apt-get", "apt"); ok {
			return true
		}
	}
	return false
}

func aptLists(f *File, s *Stage, r run) (Finding, bool) {
	if !aptUpdates(r) || r.mounts("cache") {
		return Finding{}, false
	}
	for _, c := range r.Calls {
		if c.tool() == "rm" && strings.Contains(strings.Join(c.Args, " "), "/var/lib/apt/lists") {
			return Finding{}, false
		}
	}
	fd := finding("apt-lists-not-cleaned", s, r.Line, "the lists fetched by `apt-get update` stay in the layer")
	if r.Editable && !r.openTail && !laterInstallNeedsLists(f, s, r) {
		fd.Fixable, fd.fix = true, f.appendTo(r, " \\\n    && rm -rf /var/lib/apt/lists/*")
	}
	return fd, true
}

// laterInstallNeedsLists: something after this RUN — in its stage, a
// stage built on it, a stage copying from it, an ONBUILD — may use apt
// without updating first; removing the lists would break it. Anything
// that mentions apt and is not plainly "update, then install" counts.
func laterInstallNeedsLists(f *File, s *Stage, after run) bool {
	for _, st := range f.Stages {
		if st != s && copiesFrom(f, st, s) {
			return true
		}
		if st != s && !builtOn(f, st, s) {
			continue
		}
		for _, line := range aptRisks(f, st) {
			if st != s || line > after.Line {
				return true
			}
		}
	}
	return false
}

// aptRisks lists a stage's instructions that mention apt and are not
// plainly "update, then install" (computed once per stage).
func aptRisks(f *File, st *Stage) []int {
	if f.aptRisky == nil {
		f.aptRisky = map[int][]int{}
	}
	if lines, ok := f.aptRisky[st.Index]; ok {
		return lines
	}
	lines := []int{}
	for _, in := range st.Instrs {
		if !mentionsApt.MatchString(f.Text(in.Line, in.End)) {
			continue
		}
		if r, ok := readRun(f, in); !ok || in.Kind != "run" || !updatesFirst(r) {
			lines = append(lines, in.Line)
		}
	}
	f.aptRisky[st.Index] = lines
	return lines
}

var mentionsApt = regexp.MustCompile(`\bapt(-get|itude)?\b`)

// updatesFirst: the RUN's first apt call is an update (and it has one).
func updatesFirst(r run) bool {
	for _, c := range r.Calls {
		switch c.tool() {
		case "apt-get", "apt", "aptitude":
			_, ok := c.is("update", "apt-get", "apt", "aptitude")
			return ok
		}
	}
	return false // apt named, but not as a call ferry reads (xargs apt-get, sh -c "…")
}

// copiesFrom: a stage copies (COPY --from) out of base.
func copiesFrom(f *File, st, base *Stage) bool {
	for _, in := range st.Instrs {
		if c, ok := in.Cmd.(*instructions.CopyCommand); ok && c.From != "" && f.StageOf(c.From, st.Index) == base.Index {
			return true
		}
	}
	return false
}

func builtOn(f *File, st, base *Stage) bool {
	for i := st.BaseStage; i >= 0; i = f.Stages[i].BaseStage {
		if i == base.Index {
			return true
		}
	}
	return false
}

func aptAlone(f *File, s *Stage, r run, later []run) (Finding, bool) {
	if len(r.Calls) == 0 {
		return Finding{}, false
	}
	for _, c := range r.Calls {
		if _, ok := c.is("update", "apt-get", "apt"); !ok {
			return Finding{}, false
		}
	}
	fd := finding("apt-update-alone", s, r.Line, "`apt-get update` runs in a layer of its own")
	next, ok := nextInstr(s, r.Instr)
	if !ok || len(later) == 0 || later[0].Line != next.Line {
		return fd, true
	}
	n := later[0]
	installs := false
	for _, c := range n.Calls {
		if _, ok := c.is("install", "apt-get", "apt"); ok {
			installs = true
		}
	}
	if installs && r.Editable && n.Editable && !r.openTail && r.Line == r.End && len(r.Flags) == 0 && len(n.Flags) == 0 {
		upd := strings.TrimSpace(r.Shell)
		text := f.Text(r.Line, r.End)[:r.offset] + upd + " \\\n    && " + strings.TrimLeft(n.Shell, " \t")
		origin := []int{r.Line}
		for l := n.Line; l <= n.End; l++ {
			origin = append(origin, l)
		}
		fd.Fixable, fd.fix = true, &edit{From: r.Line, To: n.End, Text: text, Origin: origin}
	}
	return fd, true
}

// nextInstr is the instruction after in, in its stage.
func nextInstr(s *Stage, in Instr) (Instr, bool) {
	for i, x := range s.Instrs {
		if x.Line == in.Line && i+1 < len(s.Instrs) {
			return s.Instrs[i+1], true
		}
	}
	return Instr{}, false
}

// envSet reports whether a stage (or one it builds on) sets an ENV key.
func envSet(f *File, s *Stage, key string) bool {
	for st := s; st != nil; {
		for _, in := range st.Instrs {
			if e, ok := in.Cmd.(*instructions.EnvCommand); ok {
				for _, kv := range e.Env {
					if strings.EqualFold(kv.Key, key) {
						return true
					}
				}
			}
		}
		if st.BaseStage < 0 {
			break
		}
		st = f.Stages[st.BaseStage]
	}
	return false
}

// flagRule is a package manager call missing the flag that keeps its
// cache out of the layer.
type flagRule struct {
	rule, sub, flag, env, msg string
	tools                     []string
}

var (
	pipRule = flagRule{"pip-no-cache-dir", "install", "--no-cache-dir", "PIP_NO_CACHE_DIR", "`pip install` keeps its download cache in the layer", []string{"pip", "pip3"}}
	apkRule = flagRule{"apk-no-cache", "add", "--no-cache", "", "`apk add` keeps its index and cache in the layer", []string{"apk"}}
)

func pipNoCache(f *File, _ Options) []Finding { return missingFlag(f, pipRule) }
func apkNoCache(f *File, _ Options) []Finding { return missingFlag(f, apkRule) }

// missingFlag reports the calls without the flag (none where a cache
// mount or the environment already keeps the cache out), fixable by
// inserting it after the subcommand.
func missingFlag(f *File, fr flagRule) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		if fr.env != "" && envSet(f, s, fr.env) {
			continue
		}
		for _, r := range runs(f, s) {
			if r.mounts("cache") {
				continue
			}
			for _, c := range r.Calls {
				i, ok := c.is(fr.sub, fr.tools...)
				if !ok || c.has(fr.flag) {
					continue
				}
				fd := finding(fr.rule, s, r.Line, fr.msg)
				if r.Editable {
					fd.Fixable, fd.fix = true, f.insert(r, c.ends[i], " "+fr.flag)
				}
				out = append(out, fd)
			}
		}
	}
	return out
}

func npmCI(f *File, o Options) []Finding {
	if !o.has("package-lock.json") && !o.has("npm-shrinkwrap.json") {
		return nil
	}
	var out []Finding
	for _, s := range f.Stages {
		for _, r := range runs(f, s) {
			for _, c := range r.Calls {
				i, ok := c.is("install", "npm")
				if !ok || hasOperand(c, i) {
					continue
				}
				fd := finding("npm-ci", s, r.Line, "`npm install` with a lockfile in the context")
				fd.Suggestion = "RUN npm ci"
				out = append(out, fd)
			}
		}
	}
	return out
}

// hasOperand: a non-flag argument after position i (a package named).
func hasOperand(c call, i int) bool {
	for _, a := range c.Args[i+1:] {
		if !strings.HasPrefix(a, "-") {
			return true
		}
	}
	return false
}

// cacheTargets: where each tool keeps what a cache mount should hold (as root).
var cacheTargets = []struct {
	sub, target string
	tools       []string
}{
	{"mod", "/root/go/pkg/mod", []string{"go"}},
	{"build", "/root/.cache/go-build", []string{"go"}},
	{"ci", "/root/.npm", []string{"npm"}},
	{"fetch", "/usr/local/cargo/registry", []string{"cargo"}},
}

func cacheMount(f *File, _ Options) []Finding {
	if !strings.HasPrefix(f.Syntax, "docker/dockerfile:1") {
		return nil
	}
	var out []Finding
	for _, s := range f.Stages {
		for _, r := range runs(f, s) {
			if r.mounts("cache") {
				continue
			}
			for _, c := range r.Calls {
				for _, t := range cacheTargets {
					if _, ok := c.is(t.sub, t.tools...); ok {
						fd := finding("cache-mount", s, r.Line, fmt.Sprintf("`%s` downloads again on every rebuild of this layer", c.verb()))
						fd.Suggestion = "RUN --mount=type=cache,target=" + t.target + " " + strings.TrimSpace(strings.Join(c.Args, " "))
						out = append(out, fd)
					}
				}
			}
		}
	}
	return out
}
