package testgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// record runs the targets of one package on their rows, twice each, and
// keeps what they returned or that they panicked. A row whose two runs
// disagree is not recorded: the code is not deterministic there.
func (c Characterize) record(ctx context.Context, pkgDir string, chars []*characterization) error {
	src, outs, cleanup, err := recorder(chars)
	if err != nil {
		return err
	}
	defer cleanup()
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	log, err := runRecorder(ctx, pkgDir, src, timeout, c.Env)
	if ctx.Err() != nil {
		return fmt.Errorf("record: %w", ctx.Err())
	}
	for i, ch := range chars {
		recs, rerr := readRecords(outs[i], len(ch.rows))
		switch {
		case rerr != nil:
			ch.err = rerr
		case !slices.ContainsFunc(recs, func(r *record) bool { return r != nil }) && err != nil:
			ch.err = fmt.Errorf("%w\n%s", err, tail(log, 2000))
		default:
			ch.recs = recs
		}
	}
	return nil
}

// record is what one row did, as the recorder writes it: the results as Go
// expressions, or that it panicked.
type record struct {
	Row    int      `json:"row"`
	Res    []string `json:"res"`
	Panic  bool     `json:"panic"`
	Stable bool     `json:"stable"`
}

// recorder writes the throwaway test that records every target of one
// package, and names the file each target's records go to.
func recorder(chars []*characterization) (src string, outs []string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "ferry-record-")
	if err != nil {
		return "", nil, nil, fmt.Errorf("record: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(tmp) }
	var b bytes.Buffer
	// The package's own names could collide with ours: the recorder's
	// imports are renamed, its helpers are local to each function.
	fmt.Fprintf(&b, "package %s\n\nimport (\nferryjson \"encoding/json\"\nferryos \"os\"\nferrystrconv \"strconv\"\n\"math\"\n\"testing\"\n)\n\n"+
		"var _ = math.Pi // math is there for the inputs and results that need it\n", chars[0].target.Package)
	for i, ch := range chars {
		outs = append(outs, filepath.Join(tmp, fmt.Sprintf("%d.jsonl", i)))
		writeRecorder(&b, i, ch, outs[i])
	}
	src = filepath.Join(tmp, "recorder_test.go")
	if err := os.WriteFile(src, b.Bytes(), 0o600); err != nil {
		cleanup()
		return "", nil, nil, fmt.Errorf("record: %w", err)
	}
	return src, outs, cleanup, nil
}

// writeRecorder writes the recording test of one target: each row is a
// closure (so each run evaluates its inputs afresh), run twice under
// recover, its results printed as Go expressions, one JSON line per row
// written as soon as it is known: a row that hangs or exits loses only
// itself and those after it.
func writeRecorder(b *bytes.Buffer, n int, ch *characterization, out string) {
	fn := ch.fn
	fmt.Fprintf(b, "\nfunc TestFerryRecord%d(t *testing.T) {\nout, err := ferryos.Create(%q)\nif err != nil {\nt.Fatal(err)\n}\ndefer out.Close()\n", n, out)
	for _, k := range []kind{kindFloat, kindBytes, kindError} {
		if hasKind(fn.results, k) {
			b.WriteString(recorderHelpers[k])
		}
	}
	b.WriteString("rows := []func() []string{\n")
	gots := resultNames(fn.results, "got", "err")
	var shown []string
	for i, r := range fn.results {
		shown = append(shown, r.recorded(gots[i]))
	}
	for _, row := range ch.rows {
		var args []string
		for i, p := range fn.params {
			args = append(args, p.literal(row[i]))
		}
		fmt.Fprintf(b, "func() []string {\n%s := %s(%s)\nreturn []string{%s}\n},\n",
			strings.Join(gots, ", "), fn.name, strings.Join(args, ", "), strings.Join(shown, ", "))
	}
	// Two runs of each row under recover; one JSON line per row.
	b.WriteString("}\nrun := func(row func() []string) (res []string, panicked bool) {\n" +
		"panicked = true\ndefer func() { _ = recover() }()\nreturn row(), false\n}\n" +
		"for i, row := range rows {\nfirst, p1 := run(row)\nsecond, p2 := run(row)\n" +
		"stable := p1 == p2 && len(first) == len(second)\nfor j := range first {\nstable = stable && first[j] == second[j]\n}\n" +
		"line, _ := ferryjson.Marshal(map[string]any{\"row\": i, \"res\": first, \"panic\": p1, \"stable\": stable})\n" +
		"if _, err := out.Write(append(line, '\\n')); err != nil {\nt.Fatal(err)\n}\n}\n}\n")
}

// recorderHelpers print a result of each kind that needs more than strconv.
var recorderHelpers = map[kind]string{
	kindFloat: `float := func(v float64, bits int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return map[bool]string{true: "math.NaN()", false: "math.Inf(" + ferrystrconv.Itoa(int(math.Copysign(1, v))) + ")"}[math.IsNaN(v)]
	}
	return ferrystrconv.FormatFloat(v, 'g', -1, bits)
}
`,
	kindBytes: "bytesLit := func(b []byte) string {\nif b == nil {\nreturn \"nil\"\n}\nreturn \"[]byte(\" + ferrystrconv.Quote(string(b)) + \")\"\n}\n",
	kindError: "errLit := func(err error) string {\nif err == nil {\nreturn `\"\"`\n}\nreturn ferrystrconv.Quote(err.Error())\n}\n",
}

// runRecorder runs the recorder in the package's directory, added to the
// package through -overlay: the repository's files stay as they are.
func runRecorder(ctx context.Context, pkgDir, src string, timeout time.Duration, env []string) ([]byte, error) {
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(abs, "ferry_record_zz_test.go"): src}})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	overlayFile := filepath.Join(filepath.Dir(src), "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	// The go command's own timeout, plus time to build, bounds the run;
	// the context's deadline is the backstop for a wedged build.
	ctx, cancel := context.WithTimeout(ctx, timeout+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "test", "-overlay="+overlayFile, "-run=^TestFerryRecord[0-9]+$", "-count=1",
		"-timeout="+timeout.String(), ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second // a child of the code holding the pipe open must not hang us
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("go test (recording) in %s: %w", pkgDir, err)
	}
	return out, nil
}

// readRecords reads one target's records; rows without one stay nil.
func readRecords(file string, rows int) ([]*record, error) {
	recs := make([]*record, rows)
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return recs, nil // the recorder never reached this target
	}
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var r record
		// A line cut short by a crash is only a row lost.
		if json.Unmarshal(line, &r) == nil && r.Row >= 0 && r.Row < rows {
			recs[r.Row] = &r
		}
	}
	return recs, nil
}

// tail is the end of a command's output, where go test says what failed.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}
