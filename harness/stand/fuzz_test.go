package stand

import (
	"time"

	"os"
	"path/filepath"
	"testing"

	"github.com/lsst-ts/teststand/internal/fuzzx"
)

// FuzzParse feeds the stand loader arbitrary YAML: it must return a stand
// or an error, never panic or hang. Seeds are the project's stands and the
// bad-stand corpus.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"../../scenarios/*.yaml", "testdata/bad/*.yaml", "testdata/bad/base/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzx.Within(5*time.Second, func() {
			s, err := Parse(filepath.Join(dir, "stand.yaml"), data, LoadOptions{})
			if err == nil && s == nil {
				t.Fatal("no stand and no error")
			}
			if err != nil && err.Error() == "" {
				t.Fatal("an empty error")
			}
		})
	})
}
