package github

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxText is GitHub's limit on a comment body or check-run summary/text.
const MaxText = 65535

// Truncate cuts s to at most limit characters (GitHub counts characters,
// not bytes), on a line boundary when one is near, closes an open code
// fence, and says what was cut, so the text is never rejected.
func Truncate(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	total := utf8.RuneCountInString(s)
	note := func(cut int) string {
		return fmt.Sprintf("\n\n… *%d characters cut to fit GitHub's limit.*", total-cut)
	}
	room := limit - utf8.RuneCountInString(note(total)) - len("\n```")
	runes := []rune(s)
	kept := string(runes[:max(room, 0)])
	if i := strings.LastIndexByte(kept, '\n'); i > len(kept)*9/10 {
		kept = kept[:i]
	}
	if strings.Count(kept, "```")%2 == 1 {
		kept += "\n```"
	}
	return kept + note(utf8.RuneCountInString(kept))
}
