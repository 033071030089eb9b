package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoFloat64 enforces the house rule that money never passes through a
// binary float (DESIGN.md §2.2): no float32 or float64 identifier in the
// store's or the account types' code.
func TestNoFloat64(t *testing.T) {
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../account"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && (id.Name == "float64" || id.Name == "float32") {
					t.Errorf("%s: %s", fset.Position(id.Pos()), id.Name)
				}
				return true
			})
		}
	}
}
