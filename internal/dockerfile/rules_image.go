package dockerfile

import (
	"bytes"
	"path"
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// imageRef splits a base image reference into its name and tag (no
// registry-port confusion); digest reports an @sha256: pin.
func imageRef(ref string) (name, tag string, digest bool) {
	if i := strings.Index(ref, "@"); i >= 0 {
		return ref[:i], "", true
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:], false
	}
	return ref, "", false
}

func baseUnpinned(f *File, _ Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		if s.BaseStage >= 0 || strings.EqualFold(s.Base, "scratch") || strings.Contains(s.Base, "$") {
			continue
		}
		name, tag, digest := imageRef(s.Base)
		if digest || (tag != "" && tag != "latest") {
			continue
		}
		msg := "`" + s.Base + "` has no tag: each build takes whatever is newest"
		if tag == "latest" {
			msg = "`" + s.Base + "` follows latest: each build takes whatever is newest"
		}
		fd := finding("base-unpinned", s, s.Line, msg)
		fd.Suggestion = "FROM " + name + ":<version>@sha256:<digest>  # docker buildx imagetools inspect " + name + ":<version>"
		out = append(out, fd)
	}
	return out
}

// userOf is the last USER a stage (or a stage it builds on) sets, and its line.
func userOf(f *File, s *Stage) (string, int) {
	for st := s; ; st = f.Stages[st.BaseStage] {
		for i := len(st.Instrs) - 1; i >= 0; i-- {
			if u, ok := st.Instrs[i].Cmd.(*instructions.UserCommand); ok {
				return u.User, st.Instrs[i].Line
			}
		}
		if st.BaseStage < 0 {
			return "", 0
		}
	}
}

// imageBase is the image a stage's chain of stages starts from.
func imageBase(f *File, s *Stage) string {
	for s.BaseStage >= 0 {
		s = f.Stages[s.BaseStage]
	}
	return s.Base
}

func rootFinal(f *File, _ Options) []Finding {
	s := f.Final()
	user, line := userOf(f, s)
	base := imageBase(f, s)
	if strings.Contains(base, "nonroot") || strings.EqualFold(base, "scratch") {
		return nil
	}
	name := strings.SplitN(user, ":", 2)[0]
	if user != "" && name != "root" && name != "0" {
		return nil
	}
	if line == 0 {
		line = s.Line
	}
	fd := finding("root-final", s, line, "the final stage sets no unprivileged USER (unless its base image does)")
	if user != "" {
		fd.Message = "the final stage runs as `" + user + "`"
	}
	fd.Suggestion = "RUN useradd --system --uid 10001 app  # alpine: adduser -S -u 10001 app\nUSER 10001"
	return []Finding{fd}
}

var archive = regexp.MustCompile(`(?i)\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst|lz4)|gz|bz2|xz|zst)$`)

func addForCopy(f *File, o Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			a, ok := in.Cmd.(*instructions.AddCommand)
			if !ok || len(a.SourceContents) > 0 || a.Checksum != "" || a.KeepGitDir != nil || a.Unpack != nil {
				continue
			}
			local := true
			for _, src := range a.SourcePaths {
				if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || archive.MatchString(src) ||
					strings.ContainsAny(src, "*?[$") {
					local = false
				}
			}
			known, anyArchive := sourcesKnown(o, a.SourcePaths)
			if !local || anyArchive {
				continue // ADD unpacks a local archive, whatever its name: it is meant
			}
			fd := finding("add-for-copy", s, in.Line, "`ADD` copies local files: `COPY` says so")
			src := f.Text(in.Line, in.End)
			lead := len(src) - len(strings.TrimLeft(src, " \t"))
			fd.Suggestion = "COPY" + strings.TrimSpace(src)[3:]
			if known {
				fd.Fixable, fd.fix = true, &edit{From: in.Line, To: in.End, Text: src[:lead] + "COPY" + src[lead+3:]}
			}
			out = append(out, fd)
		}
	}
	return out
}

func runCd(f *File, _ Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		for _, r := range runs(f, s) {
			if len(r.Calls) < 2 || r.Calls[0].tool() != "cd" || len(r.Calls[0].Args) != 2 {
				continue
			}
			fd := finding("run-cd", s, r.Line, "`cd "+r.Calls[0].Args[1]+"` inside RUN")
			fd.Suggestion = "WORKDIR " + r.Calls[0].Args[1]
			out = append(out, fd)
		}
	}
	return out
}

var (
	secretName = regexp.MustCompile(`(?i)(passw|passwd|pwd|secret|token|api_?key|private_?key|credential|access_?key|auth_?key)`)
	notSecret  = regexp.MustCompile(`(?i)(public|_file$|_path$|_dir$|_url$|_name$|_id$|_user$|^gpg)`)
)

// secretInEnv names secret-like keys; values are never read into a finding.
func secretInEnv(f *File, _ Options) []Finding {
	var out []Finding
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			var keys []string
			switch c := in.Cmd.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					keys = append(keys, kv.Key)
				}
			case *instructions.ArgCommand:
				for _, kv := range c.Args {
					keys = append(keys, kv.Key)
				}
			}
			for _, k := range keys {
				if secretName.MatchString(k) && !notSecret.MatchString(k) {
					fd := finding("secret-in-env", s, in.Line, "`"+k+"` looks like a secret and is set by "+strings.ToUpper(in.Kind))
					fd.Suggestion = "RUN --mount=type=secret,id=" + strings.ToLower(k) + ",env=" + k + " <command>"
					out = append(out, fd)
				}
			}
		}
	}
	return out
}

// copiesAll reports whether a COPY/ADD copies the context's root.
func copiesAll(in Instr) (dest string, ok bool) {
	var sd instructions.SourcesAndDest
	switch c := in.Cmd.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			return "", false
		}
		sd = c.SourcesAndDest
	case *instructions.AddCommand:
		sd = c.SourcesAndDest
	default:
		return "", false
	}
	for _, s := range sd.SourcePaths {
		if path.Clean(s) == "." {
			return sd.DestPath, true
		}
	}
	return "", false
}

func copyAllNoIgnore(f *File, o Options) []Finding {
	if o.Context == nil || o.has(".dockerignore") || (o.Name != "" && o.has(o.Name+".dockerignore")) {
		return nil
	}
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			if _, ok := copiesAll(in); ok {
				fd := finding("copy-all-no-dockerignore", s, in.Line, "the whole build context is copied and there is no .dockerignore")
				fd.Suggestion = ".git\n**/node_modules\n**/*.log\n.env*"
				return []Finding{fd}
			}
		}
	}
	return nil
}

// sourcesKnown reads ADD's sources from the context: known when each is
// there (a directory counts: ADD unpacks only a source that is itself an
// archive); anyArchive when one starts like a tar, gzip, bzip2, xz or zstd
// stream, as BuildKit decides by content, not by name.
func sourcesKnown(o Options, sources []string) (known, anyArchive bool) {
	if o.Context == nil {
		return false, false
	}
	for _, src := range sources {
		data, ok := o.Context(strings.TrimPrefix(path.Clean(src), "/"))
		if !ok {
			return false, false
		}
		if isArchive(data) {
			return true, true
		}
	}
	return true, false
}

func isArchive(b []byte) bool {
	for _, magic := range [][]byte{{0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {0x28, 0xb5, 0x2f, 0xfd}} {
		if bytes.HasPrefix(b, magic) {
			return true
		}
	}
	return len(b) >= 262 && string(b[257:262]) == "ustar"
}
