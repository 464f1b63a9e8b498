package rollout

import (
	"regexp"
	"strings"
)

var shaField = regexp.MustCompile(`\{\{-?\s*\.(SHA|ShortSHA)\s*-?\}\}`)

// CommitOfImage reads back the commit an image was built from, by matching
// it against the environment's image template ("ghcr.io/acme/api:{{
// .ShortSHA }}"). ok is false when the image does not come from the
// template, or the template names no commit: then what runs is unknown.
func CommitOfImage(template, image string) (sha string, ok bool) {
	locs := shaField.FindAllStringSubmatchIndex(template, -1)
	if len(locs) == 0 {
		return "", false
	}
	var b strings.Builder
	b.WriteString("^")
	last := 0
	for _, l := range locs {
		b.WriteString(regexp.QuoteMeta(template[last:l[0]]))
		if template[l[2]:l[3]] == "SHA" {
			b.WriteString("([0-9a-f]{40})")
		} else {
			b.WriteString("([0-9a-f]{7,40})")
		}
		last = l[1]
	}
	b.WriteString(regexp.QuoteMeta(template[last:]) + "$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return "", false
	}
	m := re.FindStringSubmatch(image)
	if m == nil {
		return "", false
	}
	// The longest capture is the most precise name of the commit.
	for _, c := range m[1:] {
		if len(c) > len(sha) {
			sha = c
		}
	}
	return sha, true
}
