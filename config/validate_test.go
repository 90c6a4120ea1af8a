package config

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestValidateProblems(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(c *Config)
		paths []string
	}{
		{
			name: "several at once, in struct order",
			edit: func(c *Config) {
				c.Log.Format = "xml"
				c.Server.Name = "bad name"
				c.Registration.Mode = "opne"
				c.Registration.SharedSecret = "short"
				c.Limits.MaxEventBytes = 65537
				c.Client.TLSCert = "cert.pem"
			},
			paths: []string{
				"server.name",
				"client.tls_key",
				"registration.mode",
				"registration.shared_secret",
				"limits.max_event_bytes",
				"log.format",
			},
		},
		{
			name: "server",
			edit: func(c *Config) {
				c.Server.Name = "example.org:99999"
				c.Server.PublicBaseURL = "ftp://example.org"
				c.Server.DataDir = "a\x00b"
			},
			paths: []string{"server.name", "server.public_base_url", "server.data_dir"},
		},
		{
			name:  "public base URL with a query",
			edit:  func(c *Config) { c.Server.PublicBaseURL = "https://example.org/?x=1" },
			paths: []string{"server.public_base_url"},
		},
		{
			name:  "public base URL without host",
			edit:  func(c *Config) { c.Server.PublicBaseURL = "https:///path" },
			paths: []string{"server.public_base_url"},
		},
		{
			name:  "public base URL with credentials",
			edit:  func(c *Config) { c.Server.PublicBaseURL = "https://u:p@example.org" },
			paths: []string{"server.public_base_url"},
		},
		{
			name:  "listen without port",
			edit:  func(c *Config) { c.Client.Listen = "127.0.0.1" },
			paths: []string{"client.listen"},
		},
		{
			name:  "listen with a named port",
			edit:  func(c *Config) { c.Client.Listen = ":http" },
			paths: []string{"client.listen"},
		},
		{
			name:  "listen with a bad host and port",
			edit:  func(c *Config) { c.Client.Listen = "a b:70000" },
			paths: []string{"client.listen", "client.listen"},
		},
		{
			name:  "TLS key without certificate",
			edit:  func(c *Config) { c.Client.TLSKey = "key.pem" },
			paths: []string{"client.tls_cert"},
		},
		{
			name: "body limit below event limit",
			edit: func(c *Config) {
				c.Client.MaxBodyBytes = 1000
				c.Limits.MaxEventBytes = 2000
			},
			paths: []string{"client.max_body_bytes"},
		},
		{
			name:  "negative body limit",
			edit:  func(c *Config) { c.Client.MaxBodyBytes = -1 },
			paths: []string{"client.max_body_bytes"},
		},
		{
			name: "legacy registration without open mode",
			edit: func(c *Config) {
				c.Registration.Mode = RegistrationToken
				c.Registration.AllowLegacySingleRequest = true
			},
			paths: []string{"registration.allow_legacy_single_request"},
		},
		{
			name: "auth",
			edit: func(c *Config) {
				c.Auth.AccessTokenLifetime = Duration(-time.Second)
				c.Auth.RefreshTokenLifetime = Duration(-time.Second)
				c.Auth.PasswordMinLength = -1
			},
			paths: []string{"auth.access_token_lifetime", "auth.refresh_token_lifetime", "auth.password_min_length"},
		},
		{
			name: "refresh token shorter than access token",
			edit: func(c *Config) {
				c.Auth.AccessTokenLifetime = Duration(time.Hour)
				c.Auth.RefreshTokenLifetime = Duration(time.Minute)
			},
			paths: []string{"auth.refresh_token_lifetime"},
		},
		{
			name:  "refresh token shorter than the default refreshable access token",
			edit:  func(c *Config) { c.Auth.RefreshTokenLifetime = Duration(time.Minute) },
			paths: []string{"auth.refresh_token_lifetime"},
		},
		{
			name: "limits",
			edit: func(c *Config) {
				c.Limits.PerUser.PerSecond = -1
				c.Limits.PerUser.Burst = -1
				c.Limits.PerIP.PerSecond = math.NaN()
				c.Limits.MaxLongPolls = -1
				c.Limits.MaxFilterBytes = -1
				c.Limits.MaxEventBytes = -1
				c.Limits.MaxTimeoutMS = MaxSyncTimeoutMS + 1
			},
			paths: []string{
				"limits.per_user.per_second",
				"limits.per_user.burst",
				"limits.per_ip.per_second",
				"limits.max_long_polls",
				"limits.max_filter_bytes",
				"limits.max_event_bytes",
				"limits.max_timeout_ms",
			},
		},
		{
			name: "a disabled rate limit is still checked",
			edit: func(c *Config) {
				c.Limits.PerIP = RateLimit{PerSecond: math.Inf(1), Disabled: true}
			},
			paths: []string{"limits.per_ip.per_second"},
		},
		{
			name: "storage",
			edit: func(c *Config) {
				c.Storage.MemTableMiB = -1
				c.Storage.BlockCacheMiB = maxMiB + 1
				c.Storage.MemoryLimitMiB = 1
			},
			paths: []string{"storage.mem_table_mib", "storage.block_cache_mib", "storage.memory_limit_mib"},
		},
		{
			name:  "federation listener without TLS",
			edit:  func(c *Config) { c.Federation.Listen = ":8448" },
			paths: []string{"federation.tls_cert", "federation.tls_key"},
		},
		{
			name: "federation",
			edit: func(c *Config) {
				c.Federation.Listen = "8448"
				c.Federation.TLSKey = "key.pem"
				c.Federation.ExtraCAFiles = []string{"ca.pem", ""}
				c.Federation.KeyValidity = Duration(MaxKeyValidity + time.Second)
			},
			paths: []string{
				"federation.listen",
				"federation.tls_cert",
				"federation.extra_ca_files[1]",
				"federation.key_validity",
			},
		},
		{
			name: "federation on the client port",
			edit: func(c *Config) {
				c.Client.Listen = "127.0.0.1:8448"
				c.Federation.Listen = ":8448"
				c.Federation.TLSCert, c.Federation.TLSKey = "c.pem", "k.pem"
			},
			paths: []string{"federation.listen"},
		},
		{
			name:  "negative key validity",
			edit:  func(c *Config) { c.Federation.KeyValidity = Duration(-time.Hour) },
			paths: []string{"federation.key_validity"},
		},
		{
			name: "log",
			edit: func(c *Config) {
				c.Log.Level = "INFO"
				c.Log.Format = "JSON"
			},
			paths: []string{"log.level", "log.format"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
			tt.edit(&c)
			err := c.Validate()
			var ps *Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Validate() = %v, want *Problems", err)
			}
			if got := ps.Paths(); !reflect.DeepEqual(got, tt.paths) {
				t.Errorf("paths = %q, want %q\n%v", got, tt.paths, err)
			}
			for _, p := range *ps {
				if p.Msg == "" {
					t.Errorf("%s: empty message", p.Path)
				}
			}
		})
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
	}{
		{"server name with port", func(c *Config) { c.Server.Name = "example.org:8448" }},
		{"IPv4 server name", func(c *Config) { c.Server.Name = "192.0.2.1" }},
		{"IPv6 server name", func(c *Config) { c.Server.Name = "[2001:db8::1]:8448" }},
		{"base URL with path", func(c *Config) { c.Server.PublicBaseURL = "https://example.org/matrix" }},
		{"listen on every address", func(c *Config) { c.Client.Listen = ":8008" }},
		{"listen on IPv6 with zone", func(c *Config) { c.Client.Listen = "[fe80::1%eth0]:8008" }},
		{"listen on a host name", func(c *Config) { c.Client.Listen = "localhost:8008" }},
		{"listen on a free port", func(c *Config) { c.Client.Listen = "127.0.0.1:0" }},
		{"TLS", func(c *Config) { c.Client.TLSCert, c.Client.TLSKey = "c.pem", "k.pem" }},
		{"open registration with legacy requests", func(c *Config) {
			c.Registration.Mode = RegistrationOpen
			c.Registration.AllowLegacySingleRequest = true
		}},
		{"token registration", func(c *Config) { c.Registration.Mode = RegistrationToken }},
		{"shared secret of 32 characters", func(c *Config) { c.Registration.SharedSecret = strings.Repeat("é", 32) }},
		{"refresh token outliving access token", func(c *Config) {
			c.Auth.AccessTokenLifetime = Duration(time.Hour)
			c.Auth.RefreshTokenLifetime = Duration(2 * time.Hour)
		}},
		{"fractional rate", func(c *Config) { c.Limits.PerUser.PerSecond = 0.25 }},
		{"lower event limit", func(c *Config) { c.Limits.MaxEventBytes = 16384 }},
		{"both listeners on port 0", func(c *Config) {
			c.Client.Listen = "127.0.0.1:0"
			c.Federation.Listen = "127.0.0.1:0"
			c.Federation.TLSCert, c.Federation.TLSKey = "c.pem", "k.pem"
		}},
		{"federation on another address, same port", func(c *Config) {
			c.Client.Listen = "127.0.0.1:8448"
			c.Federation.Listen = "192.0.2.1:8448"
			c.Federation.TLSCert, c.Federation.TLSKey = "c.pem", "k.pem"
		}},
		{"longest key validity", func(c *Config) { c.Federation.KeyValidity = Duration(MaxKeyValidity) }},
		{"debug json logs", func(c *Config) { c.Log.Level, c.Log.Format = "debug", "json" }},
	}
	for _, tt := range tests {
		var c Config
		tt.edit(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", tt.name, err)
		}
	}
}

func TestProblemsError(t *testing.T) {
	ps := &Problems{{"a.b", "bad"}, {"c", "worse"}}
	if got, want := ps.Error(), "a.b: bad; c: worse"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestSecretNotInMessages(t *testing.T) {
	c := Config{Registration: RegistrationConfig{SharedSecret: "hunter2-hunter2"}}
	err := c.Validate()
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate() = %v: want a problem that does not quote the secret", err)
	}
}
