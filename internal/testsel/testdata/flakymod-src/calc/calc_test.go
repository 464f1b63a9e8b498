package calc

import (
	"fmt"
	"os"
	"testing"
)

func TestAdd(t *testing.T) {
	if Add(1, 2) != 3 {
		t.Fatal("1+2")
	}
}

func TestTable(t *testing.T) {
	for _, c := range []struct{ a, b, want int }{{1, 1, 2}, {2, 2, 5}} {
		t.Run(fmt.Sprintf("%d+%d", c.a, c.b), func(t *testing.T) {
			if got := Add(c.a, c.b); got != c.want {
				t.Errorf("got %d, want %d", got, c.want)
			}
		})
	}
}

func TestSkipped(t *testing.T) { t.Skip("not on this machine") }

// TestFlaky fails when FLAKY=fail: the same code, another outcome.
func TestFlaky(t *testing.T) {
	fmt.Println("some output <with> & \"markup\"")
	if os.Getenv("FLAKY") == "fail" {
		t.Fatal("timing-dependent failure")
	}
}
