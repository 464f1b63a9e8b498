package testagent

import (
	"archive/zip"
	"bytes"
	"os"
	"strings"
	"testing"
)

func archive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestParseArchive: go test -json and JUnit reports in one archive are
// read; other files are not.
func TestParseArchive(t *testing.T) {
	gotest, err := os.ReadFile("../testsel/testdata/gotest-fail.json")
	if err != nil {
		t.Fatal(err)
	}
	junit, err := os.ReadFile("../testsel/testdata/junit-pass.xml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseArchive(archive(t, map[string]string{"a/report.json": string(gotest), "b/junit.xml": string(junit),
		"coverage.out": "mode: set\n", "binary.test": "\x7fELF"}))
	if err != nil || len(got) != 12 {
		t.Fatalf("%d results, %v", len(got), err)
	}
}

// TestAttack_Archives: what a workflow uploads is anyone's who can push a
// workflow: not a zip, a report compressed from gigabytes of one byte, a
// thousand report files — each read within bounds or not at all.
func TestAttack_Archives(t *testing.T) {
	if _, err := parseArchive([]byte("not a zip")); err == nil {
		t.Error("read something that is not a zip")
	}
	bomb := strings.Repeat("x", 80<<20) // 80 MiB of one byte, a few hundred KiB compressed
	got, err := parseArchive(archive(t, map[string]string{"bomb.json": bomb}))
	if err != nil || len(got) != 0 {
		t.Errorf("bomb: %v %v", got, err)
	}
	many := map[string]string{}
	line := `{"Action":"fail","Package":"p","Test":"TestX"}` + "\n"
	for i := range 1000 {
		many[strings.Repeat("d/", i%5)+"r"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"-"+string(rune('a'+i/26%26))+string(rune('a'+i/676))+".json"] = line
	}
	if got, err := parseArchive(archive(t, many)); err != nil || len(got) > maxEntries {
		t.Errorf("many: %d results, %v", len(got), err)
	}
}
