package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseUnknownKeys(t *testing.T) {
	tests := []struct {
		name, in string
		paths    []string
	}{
		{"misspelt key", "[server]\nnmae = \"x\"\n", []string{"server.nmae"}},
		{"unknown table, reported once", "[matrix]\nfoo = 1\n[matrix.sub]\nbar = 2\n", []string{"matrix"}},
		{"top-level key", "server_name = \"example.org\"\n", []string{"server_name"}},
		{"key of a leaf", "[limits.per_user]\nper_second = 1.0\nrate = 2\n", []string{"limits.per_user.rate"}},
		{"inline table", "[limits]\nper_ip = { per_second = 1.0, brust = 2 }\n", []string{"limits.per_ip.brust"}},
		{"wrong case", "[Server]\nName = \"example.org\"\n", []string{"Server"}},
		{"wrong case of a key", "[server]\nName = \"example.org\"\n", []string{"server.Name"}},
		{"several unknown keys", "a = 1\n[server]\nb = 2\n[limits.per_ip]\nc = 3\n", []string{"a", "server.b", "limits.per_ip.c"}},
		{"quoted key", "[server]\n\"na me\" = \"x\"\n", []string{`server."na me"`}},
		{
			"unknown keys, then validation problems",
			"[log]\nlevel = \"loud\"\ncolour = true\n[registration]\nmode = \"wide\"\n",
			[]string{"log.colour", "registration.mode", "log.level"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in))
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Parse() = %v, want *Problems", err)
			}
			if got := ps.Paths(); !reflect.DeepEqual(got, tt.paths) {
				t.Errorf("paths = %q, want %q\n%v", got, tt.paths, err)
			}
		})
	}
}

func TestParseWrongCaseSuggests(t *testing.T) {
	_, err := Parse([]byte("[server]\nData_Dir = \"/x\"\n"))
	if err == nil || !strings.Contains(err.Error(), `did you mean "server.data_dir"`) {
		t.Errorf("Parse() = %v, want a suggestion of server.data_dir", err)
	}
}

func TestParseDurations(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{`"24h"`, 24 * time.Hour},
		{`"168h"`, 168 * time.Hour},
		{`"1h30m"`, 90 * time.Minute},
		{`"90s"`, 90 * time.Second},
		{`"1.5h"`, 90 * time.Minute},
		{`"500ms"`, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		c, err := Parse([]byte("[federation]\nkey_validity = " + tt.in + "\n"))
		if err != nil {
			t.Errorf("key_validity = %s: %v", tt.in, err)
			continue
		}
		if got := c.Federation.KeyValidity.Std(); got != tt.want {
			t.Errorf("key_validity = %s: got %v, want %v", tt.in, got, tt.want)
		}
	}
	c, err := Parse([]byte("[auth]\naccess_token_lifetime = \"0s\"\nrefresh_token_lifetime = \"720h\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Auth.AccessTokenLifetime != 0 || c.Auth.RefreshTokenLifetime.Std() != 720*time.Hour {
		t.Errorf("auth = %+v", c.Auth)
	}
}

func TestParseBadDurations(t *testing.T) {
	for _, in := range []string{`"7d"`, `"24"`, `"soon"`, `""`, `24`, `1.5`, `true`, `[]`, `{}`} {
		_, err := Parse([]byte("[federation]\nkey_validity = " + in + "\n"))
		if err == nil {
			t.Errorf("key_validity = %s: no error", in)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "federation.key_validity") || !strings.Contains(msg, "line 2") {
			t.Errorf("key_validity = %s: error %q does not name the key and line", in, msg)
		}
	}
	// A duration that parses but is out of range is a problem with a path.
	_, err := Parse([]byte("[federation]\nkey_validity = \"-1h\"\n"))
	var ps *Problems
	if !errors.As(err, &ps) || !reflect.DeepEqual(ps.Paths(), []string{"federation.key_validity"}) {
		t.Errorf("key_validity = \"-1h\": %v", err)
	}
}

func TestDurationText(t *testing.T) {
	d := Duration(90 * time.Minute)
	text, err := d.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	var back Duration
	if err := back.UnmarshalText(text); err != nil || back != d {
		t.Errorf("round trip of %v via %q = %v, %v", d, text, back, err)
	}
}

func TestParseSyntaxAndTypeErrors(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"[server\nname = \"x\"\n", "table name"},
		{"[server]\nname = x\n", "line 2"},
		{"[server]\nname = 5\n", `line 2 (last key "server.name")`},
		{"[limits]\nmax_long_polls = \"many\"\n", `"limits.max_long_polls"`},
		{"[limits]\nmax_long_polls = 1.5\n", `"limits.max_long_polls"`},
		{"[federation]\nextra_ca_files = \"ca.pem\"\n", `"federation.extra_ca_files"`},
		{"server = 1\n", "server"},
		{"[server]\nname.first = \"x\"\n", `"server.name"`},
		{"[server]\nname = \"a\"\nname = \"b\"\n", "line 3"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(tt.in))
		if err == nil {
			t.Errorf("Parse(%q): no error", tt.in)
			continue
		}
		var ps *Problems
		if errors.As(err, &ps) {
			t.Errorf("Parse(%q) = %v: a syntax or type error, not problems", tt.in, err)
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "config: ") || !strings.Contains(msg, tt.want) {
			t.Errorf("Parse(%q) = %q, want it to start with \"config: \" and contain %q", tt.in, msg, tt.want)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	data := []byte("# " + strings.Repeat("x", MaxFileBytes) + "\n")
	if _, err := Parse(data); err == nil {
		t.Error("Parse of an oversized file: no error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hearth.toml")
	if err := os.WriteFile(path, []byte("[server]\nname = \"example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Server.Name != "example.org" || c.Server.PublicBaseURL != "http://127.0.0.1:8008" {
		t.Errorf("Load = %+v", c.Server)
	}

	if _, err := Load(filepath.Join(dir, "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want os.ErrNotExist", err)
	}

	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte("[registration]\nmode = \"wide\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var ps *Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "registration.mode") {
		t.Errorf("Load of an invalid file = %v, want *Problems naming the file and the key", err)
	}
}

func TestParseNesting(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"nested arrays", "a = " + strings.Repeat("[", 9) + strings.Repeat("]", 9), false},
		{"nested inline tables", "a = " + strings.Repeat("{b=", 9) + "1" + strings.Repeat("}", 9), false},
		{"long dotted key", strings.Repeat("a.", 33) + "b = 1", false},
		{"long table header", "[" + strings.Repeat("a.", 33) + "b]", false},
		{"dots in strings do not count", "[server]\npublic_base_url = \"https://a" + strings.Repeat(".a", 100) + "\"\n", true},
		{"nor in literal strings", "[server]\ndata_dir = '" + strings.Repeat(".", 100) + "'\n", true},
		{"nor in multi-line strings", "[server]\ndata_dir = \"\"\"\n" + strings.Repeat("[{.", 100) + "\n\\\"\"\"\"\n", true},
		{"nor in comments", "# " + strings.Repeat("[{.", 100) + "\n[server]\n", true},
		{"a quote in a comment", "# don't\n[server]\nname = \"example.org\"\n", true},
		{"brackets in strings", "[federation]\nextra_ca_files = [\"[a]\", '{b}', \"c\\\"[\"]\n", true},
	}
	for _, tt := range tests {
		c, err := Parse([]byte(tt.in))
		var ps *Problems
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.ok && (err == nil || errors.As(err, &ps)):
			t.Errorf("%s: Parse() = %+v, %v; want a nesting error", tt.name, c, err)
		}
	}
}
