package houserules

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// moneyPackages handle amounts: float32/float64 may not appear in them
// (DESIGN §2.2, "money is never float64"), except in a file named
// metrics.go, which holds Prometheus metrics only.
var moneyPackages = []string{"money", "rating", "account", "store", "catalog", "api", "usage", "balance", "chf", "cdr"}

// decoderPackages parse untrusted input: no panic in them.
var decoderPackages = append([]string{"nchf", "balance", "balance/journal", "config"}, moneyPackages...)

// panicAllowed lists functions that may panic by contract (Must* helpers for
// constants in tests and examples).
var panicAllowed = map[string]bool{"MustParse": true}

func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || name == "metrics.go" {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return fset, files
}

func TestNoFloatInMoneyCode(t *testing.T) {
	for _, pkg := range moneyPackages {
		fset, files := parseDir(t, filepath.Join("..", pkg))
		for _, f := range files {
			ast.Inspect(f, func(n ast.Node) bool {
				if id, ok := n.(*ast.Ident); ok && (id.Name == "float64" || id.Name == "float32") {
					t.Errorf("%s: %s in money code; use money.Decimal", fset.Position(id.Pos()), id.Name)
				}
				return true
			})
		}
	}
}

func TestNoPanicInDecoders(t *testing.T) {
	for _, pkg := range decoderPackages {
		fset, files := parseDir(t, filepath.Join("..", pkg))
		for _, f := range files {
			for _, d := range f.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil || panicAllowed[fn.Name.Name] {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "panic" {
						t.Errorf("%s: panic in %s; return an error instead", fset.Position(call.Pos()), fn.Name.Name)
					}
					return true
				})
			}
		}
	}
}
