package deployagent

import (
	"context"
	"fmt"

	"github.com/ferry-ci/ferry/internal/deploy"
	"github.com/ferry-ci/ferry/internal/policy"
	"github.com/ferry-ci/ferry/internal/rollout"
)

// ClusterCommit is the commit the environment's cluster runs as its
// images name it through the image template (a full SHA or a prefix), or
// "" when the images do not tell (another tag, workloads disagreeing): what
// runs where ferry has not deployed yet.
func (a *Agent) ClusterCommit(ctx context.Context, env policy.Environment) (string, error) {
	if len(env.Workloads) == 0 {
		return "", nil
	}
	kube, err := a.clusters(env)
	if err != nil {
		return "", err
	}
	_, known, err := kube.Current(ctx, env.Namespace, env.Workloads, env.Service)
	if err != nil {
		return "", fmt.Errorf("what %s runs: %w", env.Name, err)
	}
	return commitOfImages(env, known), nil
}

// commitOfImages is the one commit every workload's image names, or "".
func commitOfImages(env policy.Environment, known rollout.Known) string {
	sha, ok := rollout.CommitOfImage(env.Image, known.Images[env.Workloads[0].Name])
	if !ok {
		return ""
	}
	for _, w := range env.Workloads[1:] {
		if other, ok := rollout.CommitOfImage(env.Image, known.Images[w.Name]); !ok || other != sha {
			return ""
		}
	}
	return sha
}

// ending tells whoever follows deploys that one is ending, before it is
// marked ended: a crash in between tells again (followers are idempotent).
func (a *Agent) ending(ctx context.Context, d deploy.Deploy) error {
	if a.followers == nil {
		return nil
	}
	if err := a.followers(ctx, d); err != nil {
		return fmt.Errorf("tell that deploy %s ends: %w", d.ID, err)
	}
	return nil
}

// Green reports whether a commit's required checks all finished green
// (protection's list, else the policy's, else every other app's suite;
// ferry's own never count), and what is missing when not.
func (a *Agent) Green(ctx context.Context, installationID int64, owner, repo, branch, sha string, policyChecks []string) (bool, string, error) {
	c, err := a.checks(ctx, installationID, owner, repo, branch, sha, policyChecks)
	if err != nil {
		return false, "", err
	}
	return c.Green(), c.Summary(), nil
}
