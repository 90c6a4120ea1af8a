package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// documented is the configuration each field's doc comment promises for an
// empty file.
var documented = Config{
	Server: ServerConfig{
		Name:          "localhost",
		PublicBaseURL: "http://127.0.0.1:8008",
		DataDir:       "./data",
	},
	Client: ClientConfig{
		Listen:       "127.0.0.1:8008",
		MaxBodyBytes: 1 << 20,
	},
	Registration: RegistrationConfig{Mode: "closed"},
	Auth:         AuthConfig{PasswordMinLength: 8},
	Limits: LimitsConfig{
		PerUser:        RateLimit{PerSecond: 20, Burst: 100},
		PerIP:          RateLimit{PerSecond: 50, Burst: 200},
		MaxLongPolls:   10000,
		MaxFilterBytes: 32768,
		MaxEventBytes:  65536,
		MaxTimeoutMS:   30000,
	},
	Storage:    StorageConfig{MemoryLimitMiB: 300},
	Federation: FederationConfig{KeyValidity: Duration(24 * time.Hour)},
	Log:        LogConfig{Level: "info", Format: "text"},
}

func TestDefault(t *testing.T) {
	if got := Default(); !reflect.DeepEqual(got, documented) {
		t.Errorf("Default() =\n%+v\nwant\n%+v", got, documented)
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default().Validate() = %v", err)
	}
}

func TestZeroValueWorks(t *testing.T) {
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Errorf("Config{}.WithDefaults().Validate() = %v", err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Config{}.Validate() = %v", err)
	}
	for _, in := range []string{"", "\n# nothing\n", "[server]\n[client]\n"} {
		c, err := Parse([]byte(in))
		if err != nil {
			t.Errorf("Parse(%q): %v", in, err)
			continue
		}
		if !reflect.DeepEqual(c, documented) {
			t.Errorf("Parse(%q) =\n%+v\nwant the defaults", in, c)
		}
	}
}

func TestWithDefaultsIdempotent(t *testing.T) {
	for _, c := range []Config{
		{},
		{Client: ClientConfig{Listen: ":0"}},
		{Client: ClientConfig{Listen: "nonsense"}},
		{Server: ServerConfig{Name: "bad name"}, Client: ClientConfig{Listen: ":8008"}},
		{Limits: LimitsConfig{MaxEventBytes: -1}},
	} {
		once := c.WithDefaults()
		if twice := once.WithDefaults(); !reflect.DeepEqual(once, twice) {
			t.Errorf("WithDefaults not idempotent for %+v:\n%+v\n%+v", c, once, twice)
		}
	}
}

func TestWithDefaultsKeepsSettings(t *testing.T) {
	c := Config{
		Server:  ServerConfig{Name: "example.org", PublicBaseURL: "https://m.example.org"},
		Limits:  LimitsConfig{PerIP: RateLimit{Burst: 7}},
		Storage: StorageConfig{MemoryLimitMiB: 1024},
	}.WithDefaults()
	if c.Server.Name != "example.org" || c.Server.PublicBaseURL != "https://m.example.org" ||
		c.Storage.MemoryLimitMiB != 1024 || c.Limits.PerIP.Burst != 7 || c.Limits.PerIP.PerSecond != DefaultIPRate {
		t.Errorf("WithDefaults overwrote a setting or missed a default: %+v", c)
	}
}

func TestDerivedPublicBaseURL(t *testing.T) {
	tests := []struct {
		name, listen, cert string
		want               string
	}{
		{"", "", "", "http://127.0.0.1:8008"},
		{"", "127.0.0.1:9000", "", "http://127.0.0.1:9000"},
		{"example.org", ":8008", "", "http://example.org:8008"},
		{"example.org:8448", "0.0.0.0:8008", "", "http://example.org:8008"},
		{"example.org", "[::]:443", "c.pem", "https://example.org"},
		{"example.org", ":80", "", "http://example.org"},
		{"example.org", ":443", "", "http://example.org:443"},
		{"[2001:db8::1]", ":8008", "", "http://[2001:db8::1]:8008"},
		{"example.org", "[::1]:8008", "", "http://[::1]:8008"},
		{"example.org", "box.lan:8008", "", "http://box.lan:8008"},
		{"example.org", "127.0.0.1:0", "", ""}, // filled in by the server
		{"example.org", "nonsense", "", ""},    // reported at client.listen
		{"bad name", ":8008", "", ""},          // reported at server.name
	}
	for _, tt := range tests {
		c := Config{
			Server: ServerConfig{Name: tt.name},
			Client: ClientConfig{Listen: tt.listen, TLSCert: tt.cert, TLSKey: tt.cert},
		}.WithDefaults()
		if got := c.Server.PublicBaseURL; got != tt.want {
			t.Errorf("name %q, listen %q, cert %q: PublicBaseURL = %q, want %q", tt.name, tt.listen, tt.cert, got, tt.want)
		}
	}
}

func TestAccessTokenExpiry(t *testing.T) {
	tests := []struct {
		lifetime    time.Duration
		refreshable bool
		want        time.Duration
	}{
		{0, false, 0},
		{0, true, 30 * time.Minute},
		{time.Hour, false, 0},
		{time.Hour, true, time.Hour},
	}
	for _, tt := range tests {
		a := AuthConfig{AccessTokenLifetime: Duration(tt.lifetime)}
		if got := a.AccessTokenExpiry(tt.refreshable); got != tt.want {
			t.Errorf("lifetime %v, refreshable %v: got %v, want %v", tt.lifetime, tt.refreshable, got, tt.want)
		}
	}
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"backbone", "field-unit", "laptop", "municipality", "school-campus"}
	var got []string
	for _, f := range files {
		got = append(got, strings.TrimSuffix(filepath.Base(f), ".toml"))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("examples = %v, want %v", got, want)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			data, _ := os.ReadFile(f)
			if !strings.HasPrefix(string(data), "# ") {
				t.Errorf("%s does not start with a comment explaining the profile", f)
			}
		})
	}
}

// TestLaptopSpellsOutDefaults keeps examples/laptop.toml, the reference of
// the file format, in step with Config and its defaults: it must name every
// key, each with its default value.
func TestLaptopSpellsOutDefaults(t *testing.T) {
	c, err := Load("examples/laptop.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Federation.ExtraCAFiles) == 0 {
		c.Federation.ExtraCAFiles = nil // [] in the file
	}
	if !reflect.DeepEqual(c, documented) {
		t.Errorf("laptop.toml =\n%+v\nwant the defaults\n%+v", c, documented)
	}
	data, err := os.ReadFile("examples/laptop.toml")
	if err != nil {
		t.Fatal(err)
	}
	md, err := decodeForTest(data)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range md {
		seen[k] = true
	}
	for k := range knownKeys() {
		if !seen[k] {
			t.Errorf("laptop.toml does not mention %s", k)
		}
	}
}

func TestSchoolCampusDerivesURL(t *testing.T) {
	c, err := Load("examples/school-campus.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Server.PublicBaseURL, "https://school.example"; got != want {
		t.Errorf("PublicBaseURL = %q, want %q (as the file's comment says)", got, want)
	}
}

func TestKnownKeys(t *testing.T) {
	known := knownKeys()
	for _, k := range []string{"server", "server.name", "limits.per_user.burst", "federation.key_validity", "federation.extra_ca_files"} {
		if !known[k] {
			t.Errorf("knownKeys lacks %s", k)
		}
	}
	if known["federation.key_validity.x"] || known["Server"] {
		t.Error("knownKeys has keys it should not")
	}
	for k := range known {
		if d := strings.Count(k, ".") + 1; d > maxKnownDepth {
			t.Errorf("%s has %d parts: raise maxKnownDepth", k, d)
		}
	}
}
