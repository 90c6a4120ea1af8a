package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse feeds Parse arbitrary files: a configuration file is input from
// outside the program on a box. Parse must not panic, and what it accepts
// must be valid and complete (defaults applied). The committed corpus is in
// testdata/fuzz/FuzzParse; the examples are added as seeds too.
func FuzzParse(f *testing.F) {
	examples, _ := filepath.Glob("examples/*.toml")
	for _, name := range examples {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Parse returned a config with the error %v", err)
			}
			var ps *Problems
			if errors.As(err, &ps) {
				if len(*ps) == 0 {
					t.Errorf("empty *Problems returned as an error")
				}
				for _, p := range *ps {
					if p.Path == "" || p.Msg == "" {
						t.Errorf("problem without path or message: %+v", p)
					}
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Errorf("Parse accepted a config that Validate rejects: %v", err)
		}
		if d := c.WithDefaults(); !reflect.DeepEqual(d, c) {
			t.Errorf("Parse returned a config without all defaults:\n%+v\n%+v", c, d)
		}
	})
}
