package releaseagent

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ferry-ci/ferry/internal/control"
	"github.com/ferry-ci/ferry/internal/forge"
	"github.com/ferry-ci/ferry/internal/md"
	"github.com/ferry-ci/ferry/internal/release"
	"github.com/ferry-ci/ferry/internal/releasing"
)

// branchPrefix names ferry's release branches: ferry/release and
// ferry/release/<component>.
const branchPrefix = "ferry/release"

// Closed acts on a pull request closed: when it is one of ferry's release
// pull requests (recorded by number, on ferry's branch of this
// repository), a merge tags and publishes the release — whether or not
// the policy still enables releases: merging is a person's explicit word
// — and a close without merging skips its version until the next change.
func (a *Agent) Closed(ctx context.Context, r Repo, pr forge.PullRequest) error {
	comp, ok := strings.CutPrefix(pr.HeadRef, branchPrefix)
	if !ok || (comp != "" && !strings.HasPrefix(comp, "/")) || !strings.EqualFold(pr.HeadRepo, r.fullName()) {
		return nil
	}
	rec, err := a.deps.Releases.ReleasePR(ctx, r.ID, strings.TrimPrefix(comp, "/"), pr.Number)
	if errors.Is(err, releasing.ErrNotFound) {
		return nil // not a pull request ferry opened
	}
	if err != nil {
		return err
	}
	return a.settle(ctx, a.deps.GitHub(r.InstallationID), r, rec, pr)
}

// reconcile settles a component's newest release pull request with what
// GitHub says (a closed event may have been missed, or a step cut off),
// and returns it; finishing reports a release tagged or published now or
// still to be.
func (a *Agent) reconcile(ctx context.Context, gh GitHub, r Repo, component string) (*releasing.PR, bool, error) {
	rec, err := a.deps.Releases.LatestReleasePR(ctx, r.ID, component)
	if errors.Is(err, releasing.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	switch rec.State {
	case releasing.Open:
		pr, err := gh.PullRequest(ctx, r.Owner, r.Name, rec.Number)
		if err != nil {
			return nil, false, err
		}
		if pr.State == "open" {
			return &rec, false, nil
		}
		return &rec, pr.Merged, a.settle(ctx, gh, r, rec, pr)
	case releasing.Merged, releasing.Tagging, releasing.Tagged:
		return &rec, true, a.finish(ctx, gh, r, rec, rec.TagSHA)
	case releasing.Closed, releasing.Released, releasing.Stuck:
	}
	return &rec, false, nil
}

// settle records a release pull request closed: released when merged,
// skipped when not.
func (a *Agent) settle(ctx context.Context, gh GitHub, r Repo, rec releasing.PR, pr forge.PullRequest) error {
	switch {
	case rec.State.Finishing():
		return a.finish(ctx, gh, r, rec, rec.TagSHA)
	case rec.State != releasing.Open:
		return nil // settled before (a retried delivery)
	case pr.Merged && pr.MergeCommitSHA != "":
		return a.finish(ctx, gh, r, rec, pr.MergeCommitSHA)
	case pr.Merged:
		return fmt.Errorf("release pull request #%d: merged, but GitHub names no merge commit yet", rec.Number)
	}
	if err := a.deps.Releases.AdvanceReleasePR(ctx, r.ID, rec.Component, rec.Number, releasing.Closed, "", 0, a.cfg.Now()); err != nil {
		return err
	}
	return a.record(ctx, r, rec.Number, fmt.Sprintf("closed-%d", rec.Number),
		"release pull request #"+fmt.Sprint(rec.Number)+" closed without merging: "+rec.Tag+" is skipped until the next change", nil)
}

// finish tags the merge commit and publishes the release, each step
// recorded before the next: merged → tagging → tagged → released. A retry
// after a crash anywhere finds the tag (CreateTag accepts one already at
// the commit) and the release (FindRelease) and makes neither twice.
// While the repository is paused the merge is only recorded; resuming
// finishes it.
func (a *Agent) finish(ctx context.Context, gh GitHub, r Repo, rec releasing.PR, sha string) error {
	advance := func(to releasing.State, id int64) error {
		rec.State = to
		return a.deps.Releases.AdvanceReleasePR(ctx, r.ID, rec.Component, rec.Number, to, sha, id, a.cfg.Now())
	}
	if paused, err := a.deps.Control.Paused(ctx, r.ID, control.AllEnvironments); err != nil || paused != nil {
		if err == nil && rec.State == releasing.Open {
			err = advance(releasing.Merged, 0)
		}
		return err
	}
	if rec.State == releasing.Open || rec.State == releasing.Merged {
		if err := advance(releasing.Tagging, 0); err != nil {
			return err
		}
	}
	if rec.State == releasing.Tagging {
		err := gh.CreateTag(ctx, r.Owner, r.Name, rec.Tag, sha)
		if errors.Is(err, forge.ErrTagElsewhere) {
			return a.stuck(ctx, gh, r, rec, sha, advance)
		}
		if err != nil {
			return err
		}
		if err := advance(releasing.Tagged, 0); err != nil {
			return err
		}
	}
	id, err := gh.FindRelease(ctx, r.Owner, r.Name, rec.Tag)
	if err != nil {
		return err
	}
	if id == 0 {
		if id, err = gh.CreateRelease(ctx, r.Owner, r.Name, forge.Release{Tag: rec.Tag, Name: rec.Tag, Body: rec.Notes,
			Prerelease: release.IsPrerelease(rec.Version)}); err != nil {
			return err
		}
	}
	if err := advance(releasing.Released, id); err != nil {
		return err
	}
	return a.record(ctx, r, rec.Number, fmt.Sprintf("released-%d", rec.Number),
		fmt.Sprintf("released %s: tagged %s and published the GitHub Release", rec.Tag, sha[:min(len(sha), 12)]), nil)
}

// stuck stops a release whose tag names another commit — ferry never
// moves a tag — and tells the people on the pull request.
func (a *Agent) stuck(ctx context.Context, gh GitHub, r Repo, rec releasing.PR, sha string, advance func(releasing.State, int64) error) error {
	why := fmt.Sprintf("the tag %s already exists and names another commit than the merge %s; ferry never moves a tag", rec.Tag, sha[:min(len(sha), 12)])
	if err := a.record(ctx, r, rec.Number, fmt.Sprintf("stuck-%d", rec.Number), "release stopped: "+why, nil); err != nil {
		return err
	}
	body := "😕 ferry did not release " + md.Code(rec.Tag) + ": the tag already exists and names another commit than this merge (" +
		md.Code(sha[:min(len(sha), 12)]) + "), and ferry never moves a tag. Delete or rename the tag, or release by hand; " +
		"the next change proposes the release after it."
	if _, err := gh.UpsertComment(ctx, r.Owner, r.Name, rec.Number, "release-stuck", body); err != nil {
		return err
	}
	return advance(releasing.Stuck, 0)
}
