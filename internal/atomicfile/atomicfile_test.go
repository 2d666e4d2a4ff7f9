package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestWrite: a write that succeeds replaces the file whole; one that fails
// half-way leaves the old file (or none) and no temporary file.
func TestWrite(t *testing.T) {
	cases := []struct {
		name   string
		before string // "" means no file
		fail   bool
		want   string // "" means no file
	}{
		{"new file", "", false, "all of it"},
		{"replaced", "old", false, "all of it"},
		{"failed new file", "", true, ""},
		{"failed replacement", "old", true, "old"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.jsonl")
			if c.before != "" {
				os.WriteFile(path, []byte(c.before), 0o644)
			}
			boom := errors.New("boom")
			err := Write(path, func(w io.Writer) error {
				io.WriteString(w, "all ")
				if c.fail {
					return boom
				}
				_, err := io.WriteString(w, "of it")
				return err
			})
			if c.fail != errors.Is(err, boom) {
				t.Fatalf("error %v", err)
			}
			got, rerr := os.ReadFile(path)
			if c.want == "" && !os.IsNotExist(rerr) {
				t.Errorf("file %q left behind", got)
			}
			if c.want != "" && string(got) != c.want {
				t.Errorf("file %q, want %q", got, c.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != map[bool]int{true: 1, false: 0}[c.want != ""] {
				t.Errorf("directory holds %d entries: a temporary file is left", len(ents))
			}
		})
	}
}
