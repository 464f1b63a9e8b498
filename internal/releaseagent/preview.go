package releaseagent

import (
	"context"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/render"
)

// previewParent stands for the base a pull request is merged onto.
const previewParent = "0000000000000000000000000000000000000000"

// Preview is the changelog entry a pull request will produce, per
// component it belongs to (the whole repository when there are none): the
// pull request read as its squash merge would be — its title, the
// subjects of its commits, its labels and files — under the default
// branch's release policy (ferry's defaults when it has none or it is
// invalid). It works whether or not releases are enabled.
func (a *Agent) Preview(ctx context.Context, r Repo, pr forge.PullRequest, pol policy.Loaded) ([]render.ReleaseView, error) {
	gh := a.deps.GitHub(r.InstallationID)
	chg, err := gh.PullRequestChange(ctx, r.Owner, r.Name, pr.Number, pr.BaseSHA, pr.HeadSHA)
	if err != nil {
		return nil, err
	}
	var msg strings.Builder
	fmt.Fprintf(&msg, "%s (#%d)\n", pr.Title, pr.Number)
	if len(chg.Commits) > 1 {
		msg.WriteString("\n")
		for _, c := range chg.Commits {
			fmt.Fprintf(&msg, "* %s\n", c.Subject)
		}
	}
	c := release.Commit{SHA: pr.HeadSHA, Message: msg.String(), Parents: []string{previewParent}, Author: release.Author{Login: pr.Author},
		PR: pr.Number, PRTitle: pr.Title, Labels: pr.Labels, Risk: a.riskOf(ctx, r, pr.Number)}
	for _, f := range chg.Files {
		c.Files = append(c.Files, f.Path)
	}
	cfg, comps := release.DefaultConfig(), []policy.ReleaseComponent{{}}
	if pol.State == policy.Valid {
		cfg, comps = release.FromPolicy(pol.Policy.Release), pol.Policy.Release.Components
	}
	var views []render.ReleaseView
	for _, comp := range comps {
		notes, err := release.Build(release.Input{Commits: []release.Commit{c}, Config: cfg, Component: comp.Name})
		if err != nil {
			return nil, err
		}
		if len(comps) > 1 && len(notes.Sections) == 0 && len(notes.Skipped) > 0 && notes.Skipped[0].Reason == release.SkipComponent {
			continue // not part of this component
		}
		views = append(views, render.NewReleaseView(notes))
	}
	return views, nil
}
