// Package modroot finds the root of this project's source tree, where the
// tools and caches the project builds (bin/, .cache/) live, so that tests
// and host backends agree on one place whatever package directory they run
// in.
package modroot

import (
	"os"
	"path/filepath"
	"strings"
)

// Dir is the root of this project's source tree, if the working directory
// is inside it, else "".
func Dir() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			if strings.Contains(string(b), "module github.com/lsst-ts/teststand\n") {
				return d
			}
			return ""
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}
