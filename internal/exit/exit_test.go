package exit

import (
	"errors"
	"fmt"
	"testing"
)

func TestCode(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("broker gone"), 1},
		{&BadInput{Err: errors.New("x.yaml:3: unknown key")}, 2},
		{fmt.Errorf("mirror: %w", &BadInput{Err: errors.New("bad")}), 2},
	}
	for _, c := range cases {
		if got := Code(c.err); got != c.want {
			t.Errorf("Code(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
