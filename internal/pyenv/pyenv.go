// Package pyenv gives tests a Python with packages from PyPI, installed
// once into a virtual environment under the module's git-ignored .cache,
// so that tests can run independent implementations (ts_xml's own code,
// confluent-kafka, fastavro) against the project's on a brand-new machine.
package pyenv

import (
	"github.com/lsst-ts/teststand/internal/modroot"

	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var mu sync.Mutex

// Python returns the environment's python after making sure each module of
// imports can be imported, installing pkgs (pip requirement specifiers)
// when one cannot. It fails the test, never skips, when that cannot be
// done.
func Python(t testing.TB, imports []string, pkgs ...string) string {
	t.Helper()
	py, err := ensure(imports, pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	return py
}

func ensure(imports []string, pkgs ...string) (string, error) {
	mu.Lock()
	defer mu.Unlock()
	root := modroot.Dir()
	if root == "" {
		return "", fmt.Errorf("not inside the teststand source tree")
	}
	venv := filepath.Join(root, ".cache", "pyenv")
	py := filepath.Join(venv, "bin", "python")
	check := "import " + strings.Join(imports, ", ")
	if exec.Command(py, "-c", check).Run() == nil {
		return py, nil
	}
	if _, err := os.Stat(py); err != nil {
		if out, err := exec.Command("python3", "-m", "venv", venv).CombinedOutput(); err != nil {
			return "", fmt.Errorf("cannot create the Python environment %s: %v\n%s", venv, err, out)
		}
	}
	// "python -m pip", not bin/pip: a moved environment keeps a working
	// python but not pip's shebang.
	args := append([]string{"-m", "pip", "install", "--quiet"}, pkgs...)
	if out, err := exec.Command(py, args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot install %s from PyPI into %s: %v\n%s", strings.Join(pkgs, " "), venv, err, out)
	}
	if out, err := exec.Command(py, "-c", check).CombinedOutput(); err != nil {
		return "", fmt.Errorf("installed %s, yet %q fails: %v\n%s", strings.Join(pkgs, " "), check, err, out)
	}
	return py, nil
}
