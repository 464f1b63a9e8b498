package forge

// BranchCommit is one commit ferry makes on its own branch without
// opening a pull request: the files on top of Tree's tree, with Parent as
// its parent, and Branch (created, or force-moved) pointed at it.
type BranchCommit struct {
	Branch  string
	Tree    string            // the commit whose tree the files are added to
	Parent  string            // the new commit's parent ("" = Tree)
	Message string            // commit message
	Files   map[string]string // path → content
}

// CIRun is a check run on a commit as CI reported it.
type CIRun struct {
	ID         int64
	Name       string
	AppID      int64
	Status     string // queued, in_progress, completed
	Conclusion string
	URL        string // GitHub's page of the run
	// Output is the run's title, summary and text, and — for a failed run
	// — its annotations' messages, bounded.
	Output string
}

// WorkflowRun is a GitHub Actions workflow run on a commit (its latest
// attempt).
type WorkflowRun struct {
	ID         int64
	Name       string
	Attempt    int
	Status     string
	Conclusion string
	URL        string // GitHub's page of the run
}
