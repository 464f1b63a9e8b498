package release

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/ferry-ci/ferry/internal/change"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/risk"
)

// builder holds what making one release's notes needs.
type builder struct {
	cfg        Config
	cs         []Commit
	labels     map[string]string // lower-cased labels → section
	types      map[string]string // lower-cased types → section key
	skipLabels map[string]bool
	component  []policy.Glob // the component's paths; nil for the whole repository
	compName   string
	components []namedGlobs // every configured component
	previous   map[string]bool
	classMemo  map[string][]change.Class
}

type namedGlobs struct {
	name  string
	globs []policy.Glob
}

// Build makes the notes for the commits since the previous release: the
// entries by section, the commits left out and why (every non-merge
// commit of the range is in exactly one of the two), the contributors,
// the bump and the next version.
func Build(in Input) (Notes, error) {
	b, err := newBuilder(in)
	if err != nil {
		return Notes{}, err
	}
	n := Notes{Component: in.Component, Previous: in.Previous, Sections: []Section{}, Contributors: []Contributor{}}
	if in.Previous != "" {
		v, ok := ParseTag(b.cfg.TagPattern, in.Previous)
		if !ok {
			return Notes{}, fmt.Errorf("previous tag %q does not follow the tag pattern %q", in.Previous, b.cfg.TagPattern)
		}
		n.PreviousVersion = v
	}
	ds, skipped := group(b.cs)
	for _, d := range ds {
		b.fill(d)
	}
	skipped = append(skipped, resolveReverts(b.cs, ds)...)
	var entries []built
	n.Bump = BumpNone
	for _, d := range ds {
		if d.cancelled {
			continue
		}
		e, sk := b.entry(d)
		if sk != nil {
			skipped = append(skipped, sk...)
			continue
		}
		entries = append(entries, e)
		n.Bump = maxBump(n.Bump, e.Bump)
	}
	n.Sections, n.Contributors, n.Skipped = sectioned(entries), b.contributors(entries), b.ordered(skipped)
	if n.Version, err = NextVersion(n.PreviousVersion, n.Bump, b.cfg); err != nil {
		return Notes{}, err
	}
	n.Bump = EffectiveBump(n.PreviousVersion, n.Bump, b.cfg)
	if n.Version != "" {
		n.Tag = TagFor(b.cfg.TagPattern, n.Version)
	}
	return n, nil
}

// newBuilder checks the configuration and indexes it: the component's,
// every component's paths, labels, types, who came before.
func newBuilder(in Input) (*builder, error) {
	cfg := in.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("release configuration: %w", err)
	}
	b := &builder{cfg: cfg, cs: in.Commits, labels: map[string]string{}, types: map[string]string{}, skipLabels: map[string]bool{},
		classMemo: map[string][]change.Class{}}
	for _, c := range cfg.Components {
		_, globs, _ := cfg.component(c.Name)
		b.components = append(b.components, namedGlobs{c.Name, globs})
	}
	if in.Component != "" {
		var err error
		if b.cfg, b.component, err = cfg.component(in.Component); err != nil {
			return nil, err
		}
		b.compName = in.Component
	}
	b.index(in.PreviousContributors)
	return b, nil
}

func (b *builder) index(previous []string) {
	for l, s := range b.cfg.Labels {
		b.labels[strings.ToLower(l)] = s
	}
	for t, s := range b.cfg.Types {
		b.types[strings.ToLower(t)] = sectionKey(s)
	}
	for _, l := range b.cfg.SkipLabels {
		b.skipLabels[strings.ToLower(l)] = true
	}
	if previous != nil {
		b.previous = make(map[string]bool, len(previous))
		for _, p := range previous {
			b.previous[strings.ToLower(p)] = true
		}
	}
}

// fill reads a draft's title, header, labels and breaking marks.
func (b *builder) fill(d *draft) {
	var best *Header
	for _, i := range d.commits {
		c := b.cs[i]
		for _, l := range c.Labels {
			if !slices.Contains(d.labels, l) {
				d.labels = append(d.labels, l)
			}
		}
		d.title = firstNonEmpty(d.title, strings.TrimSpace(c.PRTitle))
		if note, ok := BreakingNote(c.Message); ok {
			d.breaking, d.note = true, firstNonEmpty(d.note, note)
		}
		if len(c.Parents) > 1 {
			continue
		}
		h := parseHeader(Subject(c.Message), b.types)
		d.breaking = d.breaking || h.Breaking && h.Conventional
		if h.Conventional && (best == nil || typeRank(h.Type) < typeRank(best.Type)) {
			best = &h
		}
	}
	if d.title == "" {
		d.title = b.fallbackTitle(d, best)
	}
	d.title, _ = SubjectPR(d.title)
	d.header = parseHeader(d.title, b.types)
	if h, ok := parseBracketTag(d.title, b.types); ok && !d.header.Conventional {
		d.header = h
	}
	if !d.header.Conventional && best != nil {
		d.header.Type, d.header.Conventional = best.Type, true
	}
	d.breaking = d.breaking || d.header.Breaking && d.header.Conventional
	_, d.isRevert = RevertTitle(d.title)
}

// fallbackTitle: GitHub's merge message carries the pull request's title,
// and a squash's subject is it; otherwise the most significant typed
// commit's subject, or the first commit's.
func (b *builder) fallbackTitle(d *draft, best *Header) string {
	head := Subject(b.cs[d.head].Message)
	if _, t, ok := MergePR(b.cs[d.head].Message); ok && t != "" {
		return t
	}
	if _, pr := SubjectPR(head); pr > 0 && pr == d.pr {
		return head // a squash, or a merge titled like one
	}
	if best != nil && len(d.commits) > 1 {
		for _, i := range d.commits {
			if s := Subject(b.cs[i].Message); len(b.cs[i].Parents) <= 1 && parseHeader(s, b.types) == *best {
				return s
			}
		}
	}
	for _, i := range d.commits {
		if len(b.cs[i].Parents) <= 1 {
			return Subject(b.cs[i].Message)
		}
	}
	return head
}

// built is an entry with what the notes need besides: its section and
// its authors as the commits name them.
type built struct {
	Entry
	section string
	authors []Author
}

// entry turns a live draft into an entry, or into skipped commits when
// the configuration leaves it out.
func (b *builder) entry(d *draft) (built, []Skipped) {
	files, commits := b.files(d)
	e := built{Entry: Entry{SHA: b.cs[d.head].SHA, Commits: commits, PR: d.pr, Scope: d.header.Scope, Subject: d.header.Description,
		Breaking: d.breaking, BreakingNote: d.note, Check: checks(files, b.classes), Labels: d.labels, Reverts: d.reverts}}
	if d.header.Conventional {
		e.Type = d.header.Type
	}
	key, inferred := b.section(d, files)
	e.Breaking, e.Bump = d.breaking, b.bump(key)
	if inferred && e.Bump == BumpMinor {
		e.Bump = BumpPatch // a subject's first word sorts; only what people wrote moves the version
	}
	b.people(d, &e)
	for _, c := range b.components {
		if touches(files, c.globs) {
			e.Components = append(e.Components, c.name)
		}
	}
	for _, l := range d.labels {
		if b.skipLabels[strings.ToLower(l)] {
			return e, d.skip(b.cs, SkipLabel, "labelled "+l)
		}
	}
	if why, ok := b.noise(e.Entry, key); ok {
		return e, d.skip(b.cs, SkipNoise, why)
	}
	if b.component != nil && !touches(files, b.component) {
		return e, d.skip(b.cs, SkipComponent, "touches nothing of component "+b.compName)
	}
	e.section = key
	return e, nil
}

// files are the paths a draft's commits change, and its commits' SHAs.
func (b *builder) files(d *draft) ([]string, []string) {
	var files, shas []string
	seen := map[string]bool{}
	for _, i := range d.commits {
		shas = append(shas, b.cs[i].SHA)
		for _, f := range b.cs[i].Files {
			if !seen[f] {
				seen[f] = true
				files = append(files, f)
			}
		}
	}
	return files, shas
}

func touches(files []string, globs []policy.Glob) bool {
	for _, f := range files {
		for _, g := range globs {
			if g.Match(f) {
				return true
			}
		}
	}
	return false
}

// people credits a draft's authors (of its non-merge commits and their
// co-authors; the merge's when there is nothing else) and carries its
// risk (the highest of its commits) and environments.
func (b *builder) people(d *draft, e *built) {
	add := func(a Author) {
		if name, login := credit(a); name != "" && !slices.ContainsFunc(e.Authors, func(x Credit) bool { return strings.EqualFold(x.Name, name) }) {
			e.Authors = append(e.Authors, Credit{name, login})
			e.authors = append(e.authors, a)
		}
	}
	for _, i := range d.commits {
		c := b.cs[i]
		if len(c.Parents) <= 1 || len(d.commits) == 1 {
			add(c.Author)
			for _, co := range CoAuthors(c.Message) {
				add(co)
			}
		}
		if riskRank(c.Risk) > riskRank(e.Risk) {
			e.Risk = c.Risk
		}
		for _, env := range c.Environments {
			if !slices.Contains(e.Environments, env) {
				e.Environments = append(e.Environments, env)
			}
		}
	}
	if e.Authors == nil {
		e.Authors = []Credit{}
	}
}

// credit is how an author is named: the login (given, or read from
// GitHub's no-reply address), else the name, else the address.
func credit(a Author) (name string, login bool) {
	if a.Login != "" {
		return a.Login, true
	}
	if l := loginFromEmail(a.Email); l != "" {
		return l, true
	}
	return firstNonEmpty(strings.TrimSpace(a.Name), a.Email), false
}

func riskRank(l risk.Level) int {
	return map[risk.Level]int{risk.Low: 1, risk.Medium: 2, risk.High: 3}[l]
}

// noise tells whether every author of an entry is a configured bot and
// the entry is in one of the sections it is noise in.
func (b *builder) noise(e Entry, key string) (string, bool) {
	for _, n := range b.cfg.Noise {
		if len(e.Authors) == 0 || len(n.Sections) > 0 && !slices.Contains(n.Sections, key) && !slices.Contains(n.Sections, e.Type) {
			continue
		}
		if !slices.ContainsFunc(e.Authors, func(a Credit) bool { return !strings.EqualFold(a.Name, n.Author) }) {
			return "bot noise: " + n.Author + " (" + key + ")", true
		}
	}
	return "", false
}

// sectioned groups entries by section, in the sections' order, each
// section's entries in the order they landed.
func sectioned(entries []built) []Section {
	out := []Section{}
	for _, e := range entries {
		i := slices.IndexFunc(out, func(s Section) bool { return s.Key == e.section })
		if i < 0 {
			out = append(out, Section{Key: e.section, Title: title(e.section)})
			i = len(out) - 1
		}
		out[i].Entries = append(out[i].Entries, e.Entry)
	}
	sort.SliceStable(out, func(a, b int) bool {
		ra, rb := rank(out[a].Key), rank(out[b].Key)
		return ra < rb || ra == rb && out[a].Key < out[b].Key
	})
	return out
}

// contributors lists who the entries credit, in the order they first
// appear, first-time contributors marked when the earlier ones are known.
func (b *builder) contributors(entries []built) []Contributor {
	out := []Contributor{}
	seen := map[string]bool{}
	for _, e := range entries {
		for _, a := range e.authors {
			name, login := credit(a)
			if seen[strings.ToLower(name)] {
				continue
			}
			seen[strings.ToLower(name)] = true
			first := b.previous != nil && !b.previous[strings.ToLower(name)] && !b.previous[strings.ToLower(a.Name)] &&
				!b.previous[strings.ToLower(a.Email)] && !b.previous[strings.ToLower(a.Login)]
			out = append(out, Contributor{Credit: Credit{name, login}, FirstTime: first})
		}
	}
	return out
}

// ordered sorts skipped commits as the range lists them.
func (b *builder) ordered(s []Skipped) []Skipped {
	pos := make(map[string]int, len(b.cs))
	for i, c := range b.cs {
		pos[c.SHA] = i
	}
	sort.SliceStable(s, func(i, j int) bool { return pos[s[i].SHA] < pos[s[j].SHA] })
	if s == nil {
		s = []Skipped{}
	}
	return s
}
