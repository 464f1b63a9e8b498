package githubsim

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Installation is an App installation and the repositories it may use.
type Installation struct {
	ID      int64
	Account string
	Repos   []string // owner/name
}

// Repo is a repository with the state ferry touches.
type Repo struct {
	ID            int64
	Owner, Name   string
	DefaultBranch string
	Private       bool
	Installation  int64

	files         map[string]map[string]string // ref → path → content
	refs          map[string]string            // "heads/main" → sha
	commits       map[string]*GitCommit
	trees         map[string][]TreeEntry
	pulls         map[int]*PullRequest
	compares      map[string]*PullRequest // "base...head" → files and commits
	comments      []*Comment
	labels        map[int][]string // issue/PR number → labels
	labelDefs     []*Label         // the repository's labels
	checkRuns     []*CheckRun
	suites        []*CheckSuite
	statuses      []*CommitStatus
	protection    map[string]*protection // branch → its protection; absent: unprotected
	deployments   []*Deployment
	releases      []*Release
	associated    map[string][]int  // commit → pull requests (SetPullRequestCommits)
	gates         []*GateRun        // deployment protection rule requests sent (RequestGate)
	collaborators map[string]string // login → admin|maintain|write|triage|read
	issues        map[int]*Issue
	nextNumber    int
	gitDir        string // a bare repository served over git's HTTP protocol
	artifacts     []*Artifact
	workflowRuns  []*WorkflowRun
}

// FullName is owner/name.
func (r *Repo) FullName() string { return r.Owner + "/" + r.Name }

// File is a file changed by a pull request.
type File struct {
	Filename  string
	Status    string // added, modified, removed, renamed
	Additions int
	Deletions int
	Patch     string
}

// Commit is a commit of a pull request or comparison.
type Commit struct {
	SHA     string
	Message string
	Author  string
	Date    time.Time
}

// PullRequest is a pull request; tests create them, ferry may too.
type PullRequest struct {
	Number  int
	Title   string
	Body    string
	User    string
	State   string // open, closed
	Head    string // branch
	HeadSHA string
	// HeadRepo is the fork the pull request comes from ("" = the same
	// repository).
	HeadRepo string
	Base     string
	BaseSHA  string
	Files    []File
	Commits  []Commit
	Created  time.Time
	Updated  time.Time
	ID       int64
	// Set by MergePullRequest; Closed also when closed unmerged
	// (PullRequestClosed, or ferry's pulls/update).
	Merged         bool
	MergedBy       string
	MergeCommitSHA string
	MergedAt       time.Time
	Closed         time.Time
}

// Issue is an issue made through the API (the recorded scenarios use them).
type Issue struct {
	Number int
	Title  string
	Body   string
	ID     int64
}

// Comment is an issue or pull request comment with its edit history.
type Comment struct {
	ID        int64
	Number    int
	User      string
	Body      string
	History   []string // earlier bodies, oldest first
	Reactions []string // contents, e.g. "eyes", "rocket"
	Created   time.Time
	Updated   time.Time
}

// CheckRun is a check run with everything ferry sent to it, or another
// App's (AddCheckRun).
type CheckRun struct {
	ID          int64
	App         string // slug of the App that created it
	SuiteID     int64  // the check suite it belongs to
	Name        string
	HeadSHA     string
	Status      string
	Conclusion  string
	Title       string
	Summary     string
	Text        string
	Annotations []map[string]any
	Actions     []map[string]any
	ExternalID  string
	DetailsURL  string
	Started     time.Time
	Completed   time.Time // zero until completed
	Updates     int
}

// Deployment is a deployment and its statuses, oldest first.
type Deployment struct {
	ID          int64
	Ref         string
	SHA         string
	Environment string
	Task        string
	Payload     any
	Description string
	Production  bool // production_environment as requested
	Statuses    []DeploymentStatus
	Created     time.Time
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID             int64
	State          string
	Description    string
	EnvironmentURL string
	LogURL         string
	Created        time.Time
}

// GitCommit is a commit created or known through the Git Data API.
type GitCommit struct {
	SHA     string
	Tree    string
	Parents []string
	Message string
}

// TreeEntry is an entry of a tree created through the Git Data API.
type TreeEntry struct {
	Path    string
	Mode    string
	Type    string
	Content string
	SHA     string
}

func fakeSHA(parts ...string) string {
	h := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:])
}

func newRepo(id int64, fullName string, installation int64) *Repo {
	owner, name, _ := strings.Cut(fullName, "/")
	r := &Repo{
		ID: id, Owner: owner, Name: name, DefaultBranch: "main", Installation: installation,
		files: map[string]map[string]string{}, refs: map[string]string{}, commits: map[string]*GitCommit{},
		trees: map[string][]TreeEntry{}, pulls: map[int]*PullRequest{}, compares: map[string]*PullRequest{}, labels: map[int][]string{},
		collaborators: map[string]string{}, issues: map[int]*Issue{}, nextNumber: 1, protection: map[string]*protection{},
	}
	for _, l := range defaultLabels {
		r.labelDefs = append(r.labelDefs, &l)
	}
	root := fakeSHA(fullName, "root")
	r.commits[root] = &GitCommit{SHA: root, Tree: fakeSHA(fullName, "root-tree"), Message: "Initial commit"}
	r.refs["heads/main"] = root
	return r
}

// --- test set-up (under the lock) ---

// AddInstallation records an installation of the App.
func (s *Sim) AddInstallation(id int64, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.installations[id] = &Installation{ID: id, Account: account}
}

// AddRepo adds a repository to an installation and returns its id.
func (s *Sim) AddRepo(installation int64, fullName string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	inst, ok := s.installations[installation]
	if !ok {
		s.t.Fatalf("githubsim: AddRepo: no installation %d", installation)
	}
	id := s.nextID()
	s.repos[fullName] = newRepo(id, fullName, installation)
	inst.Repos = append(inst.Repos, fullName)
	return id
}

// AddPullRequest adds an open pull request (Number 0 takes the next one).
func (s *Sim) AddPullRequest(repo string, pr PullRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	if pr.Number == 0 {
		pr.Number = r.nextNumber
	}
	r.nextNumber = max(r.nextNumber, pr.Number+1)
	if pr.State == "" {
		pr.State = "open"
	}
	if pr.Base == "" {
		pr.Base = r.DefaultBranch
	}
	if pr.Head == "" {
		pr.Head = fmt.Sprintf("feature-%d", pr.Number)
	}
	if pr.HeadSHA == "" {
		pr.HeadSHA = fakeSHA(repo, pr.Head, fmt.Sprint(pr.Number))
	}
	if pr.BaseSHA == "" {
		pr.BaseSHA = r.refs["heads/"+pr.Base]
	}
	if pr.User == "" {
		pr.User = "octocat"
	}
	pr.ID = s.nextID()
	pr.Created, pr.Updated = s.now(), s.now()
	r.pulls[pr.Number] = &pr
	return pr.Number
}

// AddComparison makes base...head compare to these files and commits (a
// push's before and after, say); pull requests compare by themselves.
func (s *Sim) AddComparison(repo, base, head string, files []File, commits []Commit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).compares[base+"..."+head] = &PullRequest{BaseSHA: base, HeadSHA: head, Files: files, Commits: commits}
}

// SetFile puts a file at a ref (a branch name or SHA).
func (s *Sim) SetFile(repo, ref, path, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	if r.files[ref] == nil {
		r.files[ref] = map[string]string{}
	}
	r.files[ref][path] = content
}

// SetPermission makes login a collaborator with a permission level.
func (s *Sim) SetPermission(repo, login, permission string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).collaborators[login] = permission
}

// AddComment adds a comment as login (a human, or another bot).
func (s *Sim) AddComment(repo string, number int, login, body string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &Comment{ID: s.nextID(), Number: number, User: login, Body: body, Created: s.now(), Updated: s.now()}
	r := s.mustRepo(repo)
	r.comments = append(r.comments, c)
	return c.ID
}

// --- inspection: copies, safe to keep ---

// Comments returns the comments on an issue or pull request, oldest first.
func (s *Sim) Comments(repo string, number int) []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Comment
	for _, c := range s.mustRepo(repo).comments {
		if c.Number == number {
			cc := *c
			cc.History = append([]string(nil), c.History...)
			cc.Reactions = append([]string(nil), c.Reactions...)
			out = append(out, cc)
		}
	}
	return out
}

// CheckRuns returns the check runs of a repository: ferry's and other
// Apps' (CheckRun.App says whose), oldest first.
func (s *Sim) CheckRuns(repo string) []CheckRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []CheckRun
	for _, c := range s.mustRepo(repo).checkRuns {
		out = append(out, *c)
	}
	return out
}

// Labels returns an issue's or pull request's labels, sorted.
func (s *Sim) Labels(repo string, number int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]string(nil), s.mustRepo(repo).labels[number]...)
	sort.Strings(out)
	return out
}

// Deployments returns a repository's deployments with their statuses.
func (s *Sim) Deployments(repo string) []Deployment {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Deployment
	for _, d := range s.mustRepo(repo).deployments {
		dd := *d
		dd.Statuses = append([]DeploymentStatus(nil), d.Statuses...)
		out = append(out, dd)
	}
	return out
}

// PullRequests returns a repository's pull requests by number.
func (s *Sim) PullRequests(repo string) []PullRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PullRequest
	for _, p := range s.mustRepo(repo).pulls {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Ref returns the SHA a ref ("heads/main") points to, or "".
func (s *Sim) Ref(repo, ref string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mustRepo(repo).refs[ref]
}

// TreeFiles returns the files of the tree of a commit created through the
// Git Data API, path → content.
func (s *Sim) TreeFiles(repo, commitSHA string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	out := map[string]string{}
	if c := r.commits[commitSHA]; c != nil {
		for _, e := range r.trees[c.Tree] {
			out[e.Path] = e.Content
		}
	}
	return out
}

func (s *Sim) mustRepo(full string) *Repo {
	r, ok := s.repos[full]
	if !ok {
		s.t.Fatalf("githubsim: no repository %s", full)
	}
	return r
}

// SetBranch points a branch at a commit (without a push event).
func (s *Sim) SetBranch(repo, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).refs["heads/"+branch] = sha
}
