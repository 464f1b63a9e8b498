package releaseagent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ferry-ci/ferry/internal/audit"
	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/git"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/releasing"
	"github.com/ferry-ci/ferry/internal/render"
)

// Update brings every component's release pull request up to date with
// the default branch at r.Head (its tip when ""), under the default
// branch's policy. First it finishes releases whose pull request was
// merged (a merge is tagged before anything after it is proposed); then,
// per component, it builds the notes since the last release tag and
// proposes them — one pull request per component, updated in place.
// Nothing happens unless the policy enables releases, nor while the
// repository is paused: resuming calls Update again.
func (a *Agent) Update(ctx context.Context, r Repo, pol policy.Loaded) error {
	if pol.State != policy.Valid || !pol.Policy.Release.Enabled {
		return nil
	}
	if paused, err := a.deps.Control.Paused(ctx, r.ID, control.AllEnvironments); err != nil || paused != nil {
		return err
	}
	gh := a.deps.GitHub(r.InstallationID)
	comps := pol.Policy.Release.Components
	latest, finishing := make([]*releasing.PR, len(comps)), make([]bool, len(comps))
	for i, comp := range comps {
		var err error
		// A tag just made may not be in the history read below yet: the
		// next change proposes what comes after it.
		if latest[i], finishing[i], err = a.reconcile(ctx, gh, r, comp.Name); err != nil {
			return err
		}
	}
	user, pass, err := gh.GitCredentials(ctx)
	if err != nil {
		return err
	}
	cfg := release.FromPolicy(pol.Policy.Release)
	return a.deps.History.History(ctx, strconv.FormatInt(r.ID, 10), git.Remote{URL: r.CloneURL, Username: user, Password: pass},
		r.DefaultBranch, func(g *git.Repo) error {
			head, err := tip(g, r)
			if err != nil {
				return err
			}
			envs, err := a.deployed(ctx, r, pol.Policy)
			if err != nil {
				return err
			}
			for i, comp := range comps {
				if finishing[i] {
					continue
				}
				p := proposal{repo: r, git: g, head: head, cfg: cfg, comp: comp, pol: pol.Policy, latest: latest[i], envs: envs}
				if err := a.propose(ctx, gh, p); err != nil {
					return fmt.Errorf("release of %s: %w", componentName(comp.Name), err)
				}
			}
			return nil
		})
}

// tip is the commit to release up to: the pushed head when the history
// has it, else the branch's tip as fetched.
func tip(g *git.Repo, r Repo) (string, error) {
	if r.Head != "" {
		if c, err := g.Resolve(r.Head); err == nil {
			return c.Hash.String(), nil
		}
	}
	c, err := g.Resolve("refs/heads/" + r.DefaultBranch)
	if err != nil {
		return "", fmt.Errorf("the tip of %s: %w", r.DefaultBranch, err)
	}
	return c.Hash.String(), nil
}

func componentName(name string) string {
	if name == "" {
		return "the repository"
	}
	return "component " + name
}

// proposal is one component's release pull request being brought up to date.
type proposal struct {
	repo   Repo
	git    *git.Repo
	head   string // the commit released up to
	cfg    release.Config
	comp   policy.ReleaseComponent
	pol    policy.Policy
	latest *releasing.PR // the newest record of the component, nil none
	envs   map[string]string
}

// propose builds the component's notes and proposes them — unless there
// is nothing to release, the record says it was done for this head, or a
// person closed it for this head (closing skips the version until the
// next change).
func (a *Agent) propose(ctx context.Context, gh GitHub, p proposal) error {
	head := p.head
	if l := p.latest; l != nil && l.HeadSHA == head && (l.State == releasing.Open || l.State == releasing.Closed) {
		return nil
	}
	ccfg, err := p.cfg.ForComponent(p.comp.Name)
	if err != nil {
		return a.problem(ctx, p, err)
	}
	in, err := p.git.ReleaseInput(ctx, "", head, ccfg)
	if err != nil {
		return err
	}
	in.Config, in.Component = p.cfg, p.comp.Name
	a.enrich(ctx, gh, p.repo, &in, p.envs)
	notes, err := release.Build(in)
	if err != nil {
		return a.problem(ctx, p, err)
	}
	if notes.Version == "" {
		a.cfg.Logger.InfoContext(ctx, "nothing to release", "repository", p.repo.fullName(), "component", p.comp.Name, "head", head)
		return nil
	}
	if l := p.latest; l != nil && l.Tag == notes.Tag && (l.State.Finishing() || l.State == releasing.Released) {
		return nil // released (or being released) already: the tag is not in this history yet
	}
	view := render.NewReleaseView(notes)
	body, err := a.render.ReleaseNotes(view)
	if err != nil {
		return err
	}
	files, err := a.files(p, notes, view)
	if err != nil {
		return a.problem(ctx, p, err)
	}
	prBody, err := a.withHighlights(ctx, p, notes, view, body)
	if err != nil {
		return err
	}
	title := "chore(release): " + notes.Tag
	number, created, err := gh.Propose(ctx, p.repo.Owner, p.repo.Name, forge.Proposal{Branch: p.comp.Branch(), Base: p.repo.DefaultBranch,
		Message: title + "\n\nProposed by ferry's release agent.", Title: title, Body: proposalBody(notes, prBody), Files: files})
	if err != nil {
		return err
	}
	rec := releasing.PR{RepositoryID: p.repo.ID, Component: p.comp.Name, Number: number, Version: notes.Version, Tag: notes.Tag,
		HeadSHA: head, Notes: body, State: releasing.Open, UpdatedAt: a.cfg.Now()}
	if err := a.deps.Releases.SaveReleasePR(ctx, rec); err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "opened"
	}
	return a.record(ctx, p.repo, number, "proposed-"+head[:12]+"-"+p.comp.Name,
		fmt.Sprintf("%s release pull request #%d: %s (%s bump, %d changes since %s)", verb, number, notes.Tag, notes.Bump,
			entries(notes), orFirst(notes.Previous)), reasonsOf(notes))
}

// withHighlights is the notes for the pull request: with a model's
// highlights when there are any. The pull request alone shows them: the
// notes the GitHub Release publishes (kept in the record) and the
// changelog stay ferry's own.
func (a *Agent) withHighlights(ctx context.Context, p proposal, notes release.Notes, view render.ReleaseView, body string) (string, error) {
	h, err := a.highlights(ctx, p.repo, p.pol, notes)
	if err != nil || h == nil {
		return body, err
	}
	view.Highlights = h
	return a.render.ReleaseNotes(view)
}

// files are the release's edits: the version files and the changelog as
// they are at the head, with the new version and section.
func (a *Agent) files(p proposal, notes release.Notes, view render.ReleaseView) (map[string]string, error) {
	paths, err := release.Files(p.cfg, p.comp.Name)
	if err != nil {
		return nil, err
	}
	head, err := p.git.Resolve(p.head)
	if err != nil {
		return nil, err
	}
	current := map[string][]byte{}
	for _, path := range paths {
		b, err := p.git.FileAt(head, path)
		if err != nil {
			return nil, err
		}
		if b != nil {
			current[path] = b
		}
	}
	section, err := a.render.ReleaseChangelog(view)
	if err != nil {
		return nil, err
	}
	edited, err := release.EditFiles(release.Edit{Notes: notes, Config: p.cfg, Current: current, Changelog: section,
		Date: a.cfg.Now(), RepoURL: p.repo.HTMLURL})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(edited))
	for path, b := range edited {
		out[path] = string(b)
	}
	return out, nil
}

// proposalBody is the pull request's body: ferry's part (the notes and
// what merging does) between the markers a person's edits are kept
// around.
func proposalBody(notes release.Notes, rendered string) string {
	return forge.BodyStart + "\n" + rendered + "\n\n---\n*Merging this pull request tags " + md.Code(notes.Tag) +
		" at the merge commit and publishes the GitHub Release with these notes. Closing it skips this version until the next change. " +
		"ferry rewrites only the part above this line; what you write after it stays.*\n" + forge.BodyEnd + "\n"
}

// problem records why a component's release could not be proposed (its
// configuration or files are wrong): retrying cannot fix it, a person
// can.
func (a *Agent) problem(ctx context.Context, p proposal, err error) error {
	a.cfg.Logger.WarnContext(ctx, "release not proposed", "repository", p.repo.fullName(), "component", p.comp.Name, "err", err)
	return a.record(ctx, p.repo, 0, "problem-"+p.head[:12]+"-"+p.comp.Name,
		"release of "+componentName(p.comp.Name)+" not proposed: "+err.Error(), nil)
}

func (a *Agent) record(ctx context.Context, r Repo, number int, id, output string, reasons []audit.Reason) error {
	d := audit.Decision{ID: "release-" + strconv.FormatInt(r.ID, 10) + "-" + id, At: a.cfg.Now(), RepositoryID: r.ID,
		Repository: r.fullName(), Subject: "release", Kind: audit.KindRelease, Actor: audit.Ferry,
		InputsDigest: audit.Digest([]any{r.Head, output}), Output: output, Reasons: reasons}
	if number > 0 {
		d.Subject = "#" + strconv.Itoa(number)
	}
	return a.deps.Audit.RecordDecision(ctx, d, number)
}

// reasonsOf are the notes' sections and what was left out, for the audit
// trail.
func reasonsOf(n release.Notes) []audit.Reason {
	var out []audit.Reason
	for _, s := range n.Sections {
		var ev []string
		for _, e := range s.Entries {
			ev = append(ev, e.SHA[:min(len(e.SHA), 12)])
		}
		out = append(out, audit.Reason{Rule: "section:" + s.Key, Summary: fmt.Sprintf("%d in %s", len(s.Entries), s.Title), Evidence: ev})
	}
	if len(n.Skipped) > 0 {
		why := map[string]int{}
		for _, s := range n.Skipped {
			why[string(s.Reason)]++
		}
		var parts []string
		for k, v := range why {
			parts = append(parts, fmt.Sprintf("%d %s", v, k))
		}
		sort.Strings(parts)
		out = append(out, audit.Reason{Rule: "skipped", Summary: strings.Join(parts, ", ")})
	}
	return out
}

func entries(n release.Notes) int {
	c := 0
	for _, s := range n.Sections {
		c += len(s.Entries)
	}
	return c
}

func orFirst(previous string) string {
	if previous == "" {
		return "the first commit"
	}
	return previous
}
