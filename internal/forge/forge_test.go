package forge

import "testing"

func TestMergeBody(t *testing.T) {
	gen := "intro\n" + BodyStart + "\nnew notes\n" + BodyEnd + "\n"
	for _, tt := range []struct{ old, want string }{
		{"", gen},
		{"a person rewrote it all", gen},
		{"Please ship on Monday.\n" + BodyStart + "\nold notes\n" + BodyEnd + "\n— ops",
			"Please ship on Monday.\n" + BodyStart + "\nnew notes\n" + BodyEnd + "\n— ops"},
	} {
		if got := MergeBody(tt.old, gen); got != tt.want {
			t.Errorf("MergeBody(%q) = %q, want %q", tt.old, got, tt.want)
		}
	}
}
