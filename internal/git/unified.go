package git

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

// contextLines around each change, as git and GitHub show.
const contextLines = 3

// diffLine is one line of a diff: ' ', '+' or '-', its text without the
// newline, and whether it had one.
type diffLine struct {
	op   byte
	text string
	eol  bool
}

// unified writes a line diff's hunks as GitHub's API gives a file's patch
// (no file header), and counts the lines added and deleted. Written here
// rather than with go-git's encoder, which splits lines with a regular
// expression: that took most of the time of reading a huge change.
func unified(diffs []diffmatchpatch.Diff) (patch string, added, deleted int) {
	var lines []diffLine
	for _, d := range diffs {
		op := byte(' ')
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			op = '+'
		case diffmatchpatch.DiffDelete:
			op = '-'
		}
		for rest := d.Text; rest != ""; {
			l, after, eol := strings.Cut(rest, "\n")
			lines, rest = append(lines, diffLine{op: op, text: l, eol: eol}), after
			switch op {
			case '+':
				added++
			case '-':
				deleted++
			}
		}
	}
	var b strings.Builder
	oldNo, newNo := 0, 0 // lines of each side before lines[i]
	for i := 0; i < len(lines); {
		start := i
		for i < len(lines) && lines[i].op == ' ' {
			i++
		}
		if i == len(lines) {
			break
		}
		first := max(i-contextLines, start)
		oldNo, newNo = oldNo+first-start, newNo+first-start // equal lines before the hunk
		stop := hunkEnd(lines, i)
		oldNo, newNo = writeHunk(&b, lines[first:stop], oldNo, newNo)
		i = stop
	}
	return b.String(), added, deleted
}

// hunkEnd is where the hunk holding the change at i ends: changes with at
// most twice the context between them share one, as in git.
func hunkEnd(lines []diffLine, i int) int {
	last := i // the last changed line
	for j := i; j < len(lines) && j-last-1 <= 2*contextLines; j++ {
		if lines[j].op != ' ' {
			last = j
		}
	}
	return min(last+1+contextLines, len(lines))
}

// writeHunk writes one hunk starting after oldNo and newNo lines of each
// side, and returns the counts after it.
func writeHunk(b *strings.Builder, hunk []diffLine, oldNo, newNo int) (int, int) {
	oldCount, newCount := 0, 0
	for _, l := range hunk {
		if l.op != '+' {
			oldCount++
		}
		if l.op != '-' {
			newCount++
		}
	}
	fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(oldNo, oldCount), hunkRange(newNo, newCount))
	for _, l := range hunk {
		b.WriteByte(l.op)
		b.WriteString(l.text)
		b.WriteByte('\n')
		if !l.eol {
			b.WriteString("\\ No newline at end of file\n")
		}
	}
	return oldNo + oldCount, newNo + newCount
}

// hunkRange is git's: "start,count", ",1" left out, and an empty side
// named by the line before it.
func hunkRange(before, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprint(before + 1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
