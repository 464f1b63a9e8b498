package testenv

import "testing"

func TestInCI(t *testing.T) {
	for value, want := range map[string]bool{
		"": false, "false": false, "0": false, "FALSE": false, " false ": false,
		"true": true, "1": true, "yes": true, "True": true, "woodpecker": true,
	} {
		if got := InCI(value); got != want {
			t.Errorf("InCI(%q) = %v, want %v", value, got, want)
		}
	}
}
