package dockerfile

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// installer is a dependency install that only needs its manifests.
type installer struct {
	name string
	// match reports whether a call is this install; manifests: the files it
	// reads (nil when ferry cannot tell which they are).
	match func(c call) bool
	// manifests lists what to copy first, given the context; ok is false
	// when moving the install before the sources could change what it does.
	manifests func(c call, o Options) (files []string, ok bool)
	generic   string // the manifests, for a suggestion without a context
}

var installers = []installer{
	{"go mod download", func(c call) bool { _, ok := c.is("mod", "go"); return ok && c.has("download") }, goManifests, "go.mod go.sum"},
	{"npm", func(c call) bool {
		if _, ok := c.is("ci", "npm"); ok {
			return true
		}
		j, ok := c.is("install", "npm")
		return ok && !hasOperand(c, j)
	},
		nodeManifests("package-lock.json", "npm-shrinkwrap.json"), "package.json package-lock.json"},
	{"yarn", func(c call) bool {
		i, ok := c.is("install", "yarn")
		return c.tool() == "yarn" && (len(c.Args) == 1 || (ok && !hasOperand(c, i)))
	}, nodeManifests("yarn.lock"), "package.json yarn.lock"},
	{"pip install -r", func(c call) bool { _, ok := c.is("install", "pip", "pip3"); return ok && len(requirements(c)) > 0 }, pipManifests, "requirements.txt"},
	{"bundle install", func(c call) bool { _, ok := c.is("install", "bundle"); return ok }, bundleManifests, "Gemfile Gemfile.lock"},
	{"cargo fetch", func(c call) bool { _, ok := c.is("fetch", "cargo"); return ok }, nil, "Cargo.toml Cargo.lock"},
	{"composer install", func(c call) bool { _, ok := c.is("install", "composer"); return ok }, nil, "composer.json composer.lock"},
	{"pnpm install", func(c call) bool { _, ok := c.is("install", "pnpm"); return ok }, nil, "package.json pnpm-lock.yaml"},
}

var (
	localReplace    = regexp.MustCompile(`(?m)=>\s*\.{0,2}/`)
	localDependency = regexp.MustCompile(`"(file|link|portal|workspace):`)
	localGem        = regexp.MustCompile(`(?m)^\s*gemspec|path:|:path\s*=>|file:|eval_gemfile`)
)

func goManifests(_ call, o Options) ([]string, bool) {
	mod, ok := o.Context("go.mod")
	if !ok || localReplace.Match(mod) || o.has("go.work") {
		return nil, false
	}
	if o.has("go.sum") {
		return []string{"go.mod", "go.sum"}, true
	}
	return []string{"go.mod"}, true
}

// nodeManifests: package.json and the first lockfile present; not when
// install scripts or workspaces would need the sources.
func nodeManifests(locks ...string) func(call, Options) ([]string, bool) {
	return func(_ call, o Options) ([]string, bool) {
		data, ok := o.Context("package.json")
		var pkg struct {
			Workspaces json.RawMessage   `json:"workspaces"`
			Scripts    map[string]string `json:"scripts"`
		}
		if !ok || json.Unmarshal(data, &pkg) != nil || len(pkg.Workspaces) > 0 || localDependency.Match(data) {
			return nil, false
		}
		for _, s := range []string{"preinstall", "install", "postinstall", "prepare", "prepublish"} {
			if _, ok := pkg.Scripts[s]; ok {
				return nil, false
			}
		}
		for _, l := range locks {
			if o.has(l) {
				return []string{"package.json", l}, true
			}
		}
		return nil, false
	}
}

// requirements lists a pip install's -r files; nil when it installs
// anything else too.
func requirements(c call) []string {
	var files []string
	_, i := c.sub()
	for j := i + 1; j < len(c.Args); j++ {
		a := c.Args[j]
		switch {
		case (a == "-r" || a == "--requirement") && j+1 < len(c.Args):
			files = append(files, c.Args[j+1])
			j++
		case strings.HasPrefix(a, "--requirement="):
			files = append(files, strings.TrimPrefix(a, "--requirement="))
		case !strings.HasPrefix(a, "-"):
			return nil
		}
	}
	return files
}

func pipManifests(c call, o Options) ([]string, bool) {
	files := requirements(c)
	for _, name := range files {
		// Only files at the root: a COPY of dir/x.txt to ./ would land
		// elsewhere (and ../x is outside the context).
		if strings.Contains(name, "/") || strings.HasPrefix(name, ".") {
			return nil, false
		}
		data, ok := o.Context(name)
		if !ok {
			return nil, false
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "-") || strings.HasPrefix(l, ".") || strings.Contains(l, "/") || strings.Contains(l, "file:") ||
				strings.HasSuffix(l, ".whl") || strings.HasSuffix(l, ".tar.gz") || strings.HasSuffix(l, ".zip") {
				return nil, false
			}
		}
	}
	return files, true
}

func bundleManifests(_ call, o Options) ([]string, bool) {
	g, ok := o.Context("Gemfile")
	if !ok || !o.has("Gemfile.lock") || localGem.Match(g) {
		return nil, false
	}
	return []string{"Gemfile", "Gemfile.lock"}, true
}

var copyHead = regexp.MustCompile(`^(\s*)(?i:copy|add)((?:\s+--\S+)*)\s`)

func cacheOrder(f *File, o Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		for i, in := range s.Instrs {
			dest, ok := copiesAll(in)
			if !ok {
				continue
			}
			r, inst, c, ok := nextInstall(f, s, i)
			if !ok || copiedBefore(s, i, inst.generic) {
				continue
			}
			fd := finding("cache-order", s, in.Line, fmt.Sprintf("sources are copied before `%s` (line %d) installs dependencies", c.verb(), r.Line))
			fd.fix, fd.Suggestion = orderFix(f, s, i, r, inst, dest, o)
			fd.Fixable = fd.fix != nil
			out = append(out, fd)
		}
	}
	return out
}

// nextInstall finds the first dependency install after instruction i.
func nextInstall(f *File, s *Stage, i int) (run, installer, call, bool) {
	for _, r := range runs(f, s) {
		if r.Line <= s.Instrs[i].Line {
			continue
		}
		for _, c := range r.Calls {
			for _, inst := range installers {
				if inst.match(c) {
					return r, inst, c, true
				}
			}
		}
	}
	return run{}, installer{}, call{}, false
}

// copiedBefore: an earlier COPY of this stage already brings a manifest in.
func copiedBefore(s *Stage, i int, manifests string) bool {
	for _, in := range s.Instrs[:i] {
		if in.Kind != "copy" && in.Kind != "add" {
			continue
		}
		for _, m := range strings.Fields(manifests) {
			if strings.Contains(strings.ToLower(fmt.Sprint(in.Cmd)), strings.ToLower(m)) {
				return true
			}
		}
	}
	return false
}

// orderFix moves a dependency install, with its manifests, before the copy
// of the sources — only where nothing else could change: the install RUN
// follows the copy directly, runs one installer's installs only, in the
// directory the sources land in, and its manifests need nothing else from
// the context (movable says what that means per installer).
func orderFix(f *File, s *Stage, i int, r run, inst installer, dest string, o Options) (*edit, string) {
	cp := s.Instrs[i]
	m := copyHead.FindStringSubmatch(f.Lines[cp.Line-1])
	files := strings.Fields(inst.generic)
	eligible := m != nil && plainCopyFlags(m[2]) && cp.Line == cp.End && i+1 < len(s.Instrs) && s.Instrs[i+1].Line == r.Line &&
		(path.Clean(dest) == "." || dest == "./") && o.Context != nil && inst.manifests != nil
	if eligible {
		var ok bool
		if files, ok = movable(r, inst, o); !ok {
			eligible, files = false, strings.Fields(inst.generic)
		}
	}
	head := "COPY"
	if m != nil {
		head = m[1] + "COPY" + m[2]
	}
	if path.Clean(dest) == "." {
		dest = "./" // several sources need a directory that says so
	}
	first := head + " " + strings.Join(files, " ") + " " + dest
	if !eligible {
		return nil, strings.TrimSpace(first) + "\n" + strings.TrimSpace(f.Text(r.Line, r.End)) + "\n" + strings.TrimSpace(f.Text(cp.Line, cp.End))
	}
	text := first + "\n" + f.Text(cp.End+1, r.End) + "\n" + f.Text(cp.Line, cp.End)
	origin := []int{0}
	for l := cp.End + 1; l <= r.End; l++ {
		origin = append(origin, l)
	}
	origin = append(origin, cp.Line)
	return &edit{From: cp.Line, To: r.End, Text: text, Origin: origin}, ""
}

// plainCopyFlags: only flags that mean the same for the manifests' copy
// (--exclude, --parents, --from would not).
func plainCopyFlags(flags string) bool {
	for _, fl := range strings.Fields(flags) {
		if !strings.HasPrefix(fl, "--chown") && !strings.HasPrefix(fl, "--chmod") && !strings.HasPrefix(fl, "--link") {
			return false
		}
	}
	return true
}

// relocating are options that point an installer elsewhere than the
// directory the manifests are copied to.
var relocating = regexp.MustCompile(`^(--prefix|--cwd|--gemfile|-modfile|--project|--dir|--workspace|-C|--chdir|--target|-t|--root|--user|--src)`)

// movable lists the manifests of every call of the install RUN — all one
// installer's, none relocated — unless something in the context says the
// install needs more than them (config files, local dependencies) or the
// .dockerignore would leave one out.
func movable(r run, inst installer, o Options) ([]string, bool) {
	seen := map[string]bool{}
	var files []string
	for _, c := range r.Calls {
		if !inst.match(c) {
			return nil, false
		}
		for _, a := range c.Args[c.start()+1:] {
			if relocating.MatchString(a) {
				return nil, false
			}
		}
		fs, ok := inst.manifests(c, o)
		if !ok {
			return nil, false
		}
		for _, fl := range fs {
			if !seen[fl] {
				seen[fl] = true
				files = append(files, fl)
			}
		}
	}
	for _, cfg := range []string{".npmrc", ".yarnrc", ".yarnrc.yml", ".bundle/config", ".pip/pip.conf", "pip.conf"} {
		if o.has(cfg) {
			return nil, false
		}
	}
	return files, !ignored(o, files)
}

// ignored: the .dockerignore (the Dockerfile's own first) may leave out a
// manifest, or is an allow list (a "!" line) ferry does not evaluate.
func ignored(o Options, files []string) bool {
	data, ok := o.Context(o.Name + ".dockerignore")
	if !ok || o.Name == "" {
		data, ok = o.Context(".dockerignore")
	}
	if !ok {
		return false
	}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "!") {
			return true
		}
		for _, fl := range files {
			for _, pat := range []string{l, strings.TrimPrefix(l, "**/"), strings.TrimPrefix(l, "/")} {
				if ok, _ := path.Match(pat, fl); ok {
					return true
				}
			}
		}
	}
	return false
}
