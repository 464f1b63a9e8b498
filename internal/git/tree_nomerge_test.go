package git

import (
	"context"
	"testing"
)

// TestPullRequestTreeWithoutTestMerge: GitHub makes no test merge for a
// pull request that conflicts; its trees are read from head and base.
func TestPullRequestTreeWithoutTestMerge(t *testing.T) {
	r := newPRRemote(t)
	c := &Cache{Dir: t.TempDir()}
	gitCmd(t, r.bare, "update-ref", "-d", "refs/pull/1/merge")
	pr := PullRequest{URL: r.bare, Number: 1, BaseRef: "main", HeadSHA: r.head}
	var got []string
	err := c.PullRequestTree(context.Background(), "7", pr, func(head, base *Tree, changed []string) error {
		got = changed
		return nil
	})
	if err != nil || len(got) == 0 {
		t.Fatalf("changed %v, err %v", got, err)
	}
}
