package render

import (
	"context"
	"strings"
	"testing"

	"github.com/ferry-ci/ferry/internal/dockerfile"
	"github.com/ferry-ci/ferry/internal/mdtest"
)

func dockerfileView(t *testing.T, path, src string) DockerfileView {
	t.Helper()
	f, err := dockerfile.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	before := len(dockerfile.Analyze(f, dockerfile.Options{}))
	rw, err := dockerfile.Fix(context.Background(), f, dockerfile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return DockerfileView{Files: []DockerfileFile{NewDockerfileFile(path, before, rw)}, Digest: "0123456789abcdef"}
}

func TestDockerfileBody(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	v := dockerfileView(t, "deploy/Dockerfile", "FROM python:3.13\nRUN apt-get update && apt-get install -y gcc\n"+
		"RUN pip install -r requirements.txt\nADD app /app\nRUN cd /app && make\nCMD [\"python\", \"/app/main.py\"]\n")
	got, err := r.Dockerfile(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dockerfile.md", got)
}

// TestAttack_DockerfileBodyInjection: paths, image names and commands are
// the repository's; the body renders no link, image, HTML or mention from
// them, and a suggestion's fence cannot be closed from inside.
func TestAttack_DockerfileBodyInjection(t *testing.T) {
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	h := strings.Join(mdtest.Hostile, " ")
	v := dockerfileView(t, "x/"+mdtest.Hostile[3]+"/Dockerfile", "FROM alpine\nRUN cd /x````\\n</details> && echo @org/all\n"+
		"ENV "+"API_TOKEN"+"=\"hunter2 "+strings.ReplaceAll(h, "\n", " ")+"\"\nRUN apk add curl\n")
	got, err := r.Dockerfile(v)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "dockerfile-hostile.md", got)
	if p := mdtest.Problems(got); len(p) > 0 {
		t.Fatalf("renders %v:\n%s", p, got)
	}
	if strings.Contains(got, "hunter2") {
		t.Fatalf("a secret's value reached the body:\n%s", got)
	}
}
