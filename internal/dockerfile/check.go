package dockerfile

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Checks are what a rewrite must pass before anyone sees it.
type Checks struct {
	Parses bool `json:"parses"`
	LLB    bool `json:"llb"`
	// Contract: every target's image config (ENTRYPOINT, CMD, EXPOSE, USER,
	// WORKDIR, ENV, LABEL, …) is what the original's is.
	Contract      bool     `json:"contract"`
	FewerFindings bool     `json:"fewer_findings"`
	Problems      []string `json:"problems,omitempty"`
}

// OK: all four passed.
func (c Checks) OK() bool { return c.Parses && c.LLB && c.Contract && c.FewerFindings }

// noResolver answers every image lookup with an empty config: the check
// converts without a registry or a build engine.
type noResolver struct{}

func (noResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","config":{}}`), nil
}

// placeholderFor stands for a build argument the Dockerfile leaves to the
// build: a valid image name, tag and path, or a port for a port.
func placeholderFor(name string) string {
	if automatic(name) {
		return ""
	}
	if strings.Contains(strings.ToUpper(name), "PORT") {
		return "8080"
	}
	return "placeholder"
}

// automatic: BuildKit sets these build arguments itself.
func automatic(name string) bool {
	for _, p := range []string{"TARGET", "BUILD"} {
		switch strings.TrimPrefix(name, p) {
		case "PLATFORM", "OS", "ARCH", "VARIANT":
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return strings.HasPrefix(name, "BUILDKIT_")
}

// Contracts converts every target of a Dockerfile to LLB (BuildKit's own
// conversion; nothing is built) and returns each target's image config as
// JSON, by target ("" = the default target).
func Contracts(ctx context.Context, f *File) (map[string]string, error) {
	args := map[string]string{}
	for k, v := range f.MetaArgs {
		if v == "" && !automatic(k) {
			args[k] = placeholderFor(k)
		}
	}
	targets := []string{""}
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			if a, ok := in.Cmd.(*instructions.ArgCommand); ok {
				for _, kv := range a.Args {
					if kv.Value == nil && !automatic(kv.Key) {
						args[kv.Key] = placeholderFor(kv.Key)
					}
				}
			}
		}
		if s.Name != "" {
			targets = append(targets, s.Name)
		}
	}
	caps := pb.Caps.CapSet(pb.Caps.All())
	out := map[string]string{}
	for _, t := range targets {
		res, err := dockerfile2llb.Dockerfile2LLB(ctx, f.Src, dockerfile2llb.ConvertOpt{
			Config:       dockerui.Config{Target: t, BuildArgs: args},
			MetaResolver: noResolver{},
			LLBCaps:      &caps,
		})
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t, err)
		}
		cfg, err := json.Marshal(res.Image.Config)
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t, err)
		}
		out[t] = string(cfg)
	}
	return out, nil
}

// Verify checks a rewrite against its original (whose contracts and
// finding count the caller has).
func Verify(ctx context.Context, text []byte, want map[string]string, findingsBefore int, o Options) (Checks, *File) {
	var c Checks
	f, err := Parse(text)
	if err != nil {
		c.Problems = append(c.Problems, "does not parse: "+err.Error())
		return c, nil
	}
	c.Parses = true
	got, err := Contracts(ctx, f)
	if err != nil {
		c.Problems = append(c.Problems, "BuildKit's conversion fails: "+err.Error())
		return c, f
	}
	c.LLB = true
	c.Contract = true
	var changed []string
	for t, cfg := range want {
		if got[t] != cfg {
			changed = append(changed, t)
		}
	}
	if len(changed) > 0 || len(got) != len(want) {
		sort.Strings(changed)
		c.Contract = false
		c.Problems = append(c.Problems, fmt.Sprintf("the image config changes for targets %q", changed))
	}
	if n, before := unreadRuns(f), o.unreadBefore; n > before {
		c.Parses = false
		c.Problems = append(c.Problems, fmt.Sprintf("%d RUN lines no longer parse as shell (%d before)", n, before))
		return c, f
	}
	if n := len(Analyze(f, o)); n < findingsBefore {
		c.FewerFindings = true
	} else {
		c.Problems = append(c.Problems, fmt.Sprintf("%d findings after, %d before", n, findingsBefore))
	}
	return c, f
}

// unreadRuns counts the shell-form RUNs a shell parser refuses: a rewrite
// must not add one (its findings would vanish with it).
func unreadRuns(f *File) int {
	n := 0
	for _, s := range f.Stages {
		for _, in := range s.Instrs {
			if rc, ok := in.Cmd.(*instructions.RunCommand); ok && rc.PrependShell && len(rc.Files) == 0 {
				if _, ok := readRun(f, in); !ok {
					n++
				}
			}
		}
	}
	return n
}
