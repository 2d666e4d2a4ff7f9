package sal

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCSC parses "CSC" or "CSC:index" (index 0: none given), as stands,
// producer files and the commands' --csc flags write a CSC: the one
// parser of that form.
func ParseCSC(s string) (name string, index int32, err error) {
	name, idx, ok := strings.Cut(strings.TrimSpace(s), ":")
	if name == "" {
		return "", 0, fmt.Errorf("empty CSC name in %q", s)
	}
	if ok {
		n, err := strconv.ParseInt(idx, 10, 32)
		if err != nil || n <= 0 {
			return "", 0, fmt.Errorf("bad index in %q: want CSC:N with N > 0", s)
		}
		index = int32(n)
	}
	return name, index, nil
}
