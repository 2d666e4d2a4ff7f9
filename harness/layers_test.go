package harness

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// parseHarness parses the package's own non-test files.
func parseHarness(t *testing.T) map[string]*ast.File {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string]*ast.File{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out[f] = af
	}
	return out
}

func isStepFile(name string) bool { return name == "steps.go" || strings.HasSuffix(name, "_steps.go") }

// TestStepsUseTheLayersBelow: the step library parses its arguments and
// calls the running stand, package observe and package wait; it builds
// no Kafka clients, runs no poll loops and sleeps on no clock of its own
// (Steps.pass is the one timed pause, and it honours the context).
func TestStepsUseTheLayersBelow(t *testing.T) {
	forbidden := map[string]string{
		"kgo.NewClient":  "build a Kafka client (package observe reads topics and groups)",
		"kadm.NewClient": "build a Kafka admin client (package observe)",
		"time.Sleep":     "sleep (wait on a condition with package wait, or Steps.pass for a step's own window)",
		"time.After":     "wait on a timer (package wait, Scenario.VerdictWhen, Steps.pass)",
	}
	steps := 0
	for name, f := range parseHarness(t) {
		if !isStepFile(name) {
			continue
		}
		steps++
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/twmb/franz-go/pkg/kadm" {
				t.Errorf("%s imports kadm: steps ask package observe", name)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					if why, bad := forbidden[x.Name+"."+n.Sel.Name]; bad {
						if fn := enclosingFunc(f, n.Pos()); fn != "pass" {
							t.Errorf("%s: %s uses %s.%s: steps do not %s", name, fn, x.Name, n.Sel.Name, why)
						}
					}
				}
			case *ast.ForStmt:
				if n.Cond == nil {
					t.Errorf("%s: %s has an unbounded for loop: steps wait with package wait or Scenario.VerdictWhen", name, enclosingFunc(f, n.Pos()))
				}
			}
			return true
		})
	}
	if steps < 5 {
		t.Fatalf("found %d step files: the test looks in the wrong place", steps)
	}
}

// TestNoBackendNamesInTheHarness: what a backend can do is asked of the
// backend (package backend's capabilities), never read off its name,
// outside packages stand and backend.
func TestNoBackendNamesInTheHarness(t *testing.T) {
	names := map[string]bool{"Embedded": true, "Process": true, "Containers": true, "External": true}
	for name, f := range parseHarness(t) {
		ast.Inspect(f, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryExpr)
			if !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
				return true
			}
			for _, side := range []ast.Expr{b.X, b.Y} {
				if id, ok := side.(*ast.Ident); ok && names[id.Name] {
					t.Errorf("%s: %s compares with backend %s: ask the backend for a capability", name, enclosingFunc(f, b.Pos()), id.Name)
				}
				if sel, ok := side.(*ast.SelectorExpr); ok && sel.Sel.Name == "Backend" {
					t.Errorf("%s: %s compares a stand's backend name: ask the backend for a capability", name, enclosingFunc(f, b.Pos()))
				}
				if lit, ok := side.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if v, _ := strconv.Unquote(lit.Value); names[strings.ToUpper(v[:min(1, len(v))])+v[min(1, len(v)):]] {
						t.Errorf("%s: %s compares with the string %s", name, enclosingFunc(f, b.Pos()), lit.Value)
					}
				}
			}
			return true
		})
	}
}

// enclosingFunc names the function of f that holds pos.
func enclosingFunc(f *ast.File, pos token.Pos) string {
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Pos() <= pos && pos <= fd.End() {
			return fd.Name.Name
		}
	}
	return "?"
}
