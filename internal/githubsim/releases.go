package githubsim

import (
	"net/http"
	"strconv"
)

// Release is a GitHub Release.
type Release struct {
	ID              int64
	TagName         string
	TargetCommitish string
	Name            string
	Body            string
	Draft           bool
	Prerelease      bool
	Author          string
}

// Releases lists a repository's releases, oldest first.
func (s *Sim) Releases(repo string) []Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Release
	for _, r := range s.mustRepo(repo).releases {
		out = append(out, *r)
	}
	return out
}

// SetPullRequestCommits names the pull requests a commit belongs to, as
// "pull requests associated with a commit" answers (a rebase merge's
// commits each name their pull request).
func (s *Sim) SetPullRequestCommits(repo string, number int, shas ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	if r.associated == nil {
		r.associated = map[string][]int{}
	}
	for _, sha := range shas {
		r.associated[sha] = append(r.associated[sha], number)
	}
}

func (c *call) releaseObject(tmpl map[string]any, r *Repo, rel *Release) map[string]any {
	base := c.apiURL("/repos/" + r.FullName() + "/releases/" + strconv.FormatInt(rel.ID, 10))
	tmpl["id"], tmpl["node_id"], tmpl["url"] = rel.ID, "RE_"+strconv.FormatInt(rel.ID, 10), base
	tmpl["assets_url"], tmpl["upload_url"] = base+"/assets", "https://uploads.github.com/repos/"+r.FullName()+"/releases/"+strconv.FormatInt(rel.ID, 10)+"/assets{?name,label}"
	tmpl["html_url"] = "https://github.com/" + r.FullName() + "/releases/tag/" + rel.TagName
	tmpl["tag_name"], tmpl["target_commitish"], tmpl["name"], tmpl["body"] = rel.TagName, rel.TargetCommitish, rel.Name, rel.Body
	tmpl["draft"], tmpl["prerelease"], tmpl["assets"] = rel.Draft, rel.Prerelease, []any{}
	tmpl["tarball_url"] = c.apiURL("/repos/" + r.FullName() + "/tarball/" + rel.TagName)
	tmpl["zipball_url"] = c.apiURL("/repos/" + r.FullName() + "/zipball/" + rel.TagName)
	tmpl["created_at"], tmpl["published_at"] = c.now(), c.now()
	tmpl["author"] = c.user(tmpl["author"], rel.Author)
	return tmpl
}

// createRelease makes a release of a tag; GitHub creates the tag at the
// target when it does not exist, and refuses a second release of a tag.
func createRelease(c *call) response {
	r := c.repo()
	var in struct {
		TagName         string `json:"tag_name"`
		TargetCommitish string `json:"target_commitish"`
		Name, Body      string
		Draft           bool
		Prerelease      bool
	}
	c.decode(&in)
	for _, rel := range r.releases {
		if rel.TagName == in.TagName {
			return validation("Release", "tag_name", "already_exists", "")
		}
	}
	if _, ok := r.refs["tags/"+in.TagName]; !ok {
		target := in.TargetCommitish
		if sha, ok := r.refs["heads/"+target]; ok {
			target = sha
		}
		if _, ok := r.commits[target]; !ok {
			return validation("Release", "target_commitish", "invalid", "")
		}
		r.refs["tags/"+in.TagName] = target
	}
	rel := &Release{ID: c.sim.nextID(), TagName: in.TagName, TargetCommitish: in.TargetCommitish, Name: in.Name, Body: in.Body,
		Draft: in.Draft, Prerelease: in.Prerelease, Author: c.sim.BotLogin()}
	r.releases = append(r.releases, rel)
	return created(c.releaseObject(c.object(201), r, rel))
}

func getReleaseByTag(c *call) response {
	r := c.repo()
	for _, rel := range r.releases {
		if rel.TagName == c.param("tag") {
			return response{status: http.StatusOK, body: c.releaseObject(c.object(200), r, rel)}
		}
	}
	return errorResponse(http.StatusNotFound, "Not Found")
}

// listCommitPulls answers "pull requests associated with a commit": those
// SetPullRequestCommits named, and those whose head is the commit.
func listCommitPulls(c *call) response {
	r := c.repo()
	sha := c.param("commit_sha")
	var numbers []int
	numbers = append(numbers, r.associated[sha]...)
	for n, p := range r.pulls {
		if p.HeadSHA == sha || p.MergeCommitSHA == sha {
			numbers = append(numbers, n)
		}
	}
	tmpl := c.item(200)
	items := []any{}
	seen := map[int]bool{}
	for _, n := range numbers {
		if p, ok := r.pulls[n]; ok && !seen[n] {
			seen[n] = true
			items = append(items, c.pullObject(clone(tmpl).(map[string]any), r, p))
		}
	}
	return c.paginate(items)
}
