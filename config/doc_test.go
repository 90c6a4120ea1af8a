package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"regexp"
	"strings"
	"testing"
)

// TestFieldsDocumentDefaults enforces the convention of DESIGN.md: every
// field of the configuration documents its default, and every key is
// snake_case.
func TestFieldsDocumentDefaults(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "config.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	tag := regexp.MustCompile("^`toml:\"([^\"]*)\"`$")
	n := 0
	ast.Inspect(f, func(node ast.Node) bool {
		ts, ok := node.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		for _, field := range st.Fields.List {
			for _, name := range field.Names {
				n++
				where := ts.Name.Name + "." + name.Name
				doc := field.Doc.Text()
				switch {
				case doc == "":
					t.Errorf("%s has no doc comment", where)
				case ts.Name.Name != "Config" && !strings.Contains(strings.ToLower(doc), "default"):
					// Config's fields are tables; their types' fields
					// carry the defaults.
					t.Errorf("%s: doc comment does not state the default", where)
				}
				if field.Tag == nil {
					t.Errorf("%s has no toml tag", where)
					continue
				}
				m := tag.FindStringSubmatch(field.Tag.Value)
				if m == nil || !snake.MatchString(m[1]) {
					t.Errorf("%s: tag %s is not toml:\"snake_case\"", where, field.Tag.Value)
				}
			}
		}
		return false
	})
	if n < 30 {
		t.Errorf("found only %d fields; is config.go still where the struct lives?", n)
	}
}
