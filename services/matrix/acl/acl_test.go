package acl_test

import (
	"strings"
	"testing"

	"hearth/services/matrix/acl"
	"hearth/services/matrix/cjson"
)

func parse(t *testing.T, content string) acl.ACL {
	t.Helper()
	v, err := cjson.Decode([]byte(content))
	if err != nil {
		t.Fatal(err)
	}
	return acl.Parse(v)
}

func TestNoACLAllowsAll(t *testing.T) {
	var none acl.ACL
	if !none.Allowed("evil.com") || !none.Allowed("1.2.3.4") {
		t.Error("a room without an ACL must allow every server")
	}
}

func TestACLOrder(t *testing.T) {
	a := parse(t, `{"allow":["*"],"deny":["*.evil.com","evil.com"],"allow_ip_literals":false}`)
	cases := map[string]bool{
		"good.org":          true,
		"good.org:8448":     true,
		"evil.com":          false,
		"evil.com:1234":     false,
		"EVIL.com":          false,
		"sub.evil.com":      false,
		"notevil.com":       true,
		"1.2.3.4":           false,
		"1.2.3.4:8448":      false,
		"[::1]":             false,
		"[2001:db8::1]:443": false,
	}
	for name, want := range cases {
		if got := a.Allowed(name); got != want {
			t.Errorf("Allowed(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIPLiteralsDefaultAllowed(t *testing.T) {
	a := parse(t, `{"allow":["*"],"allow_ip_literals":"no"}`) // not a boolean: default true
	if !a.Allowed("1.2.3.4") || !a.Allowed("[::1]:80") {
		t.Error("IP literals must be allowed unless allow_ip_literals is false")
	}
}

func TestMissingAllowDeniesEveryone(t *testing.T) {
	a := parse(t, `{"deny":["evil.com"]}`)
	if a.Allowed("good.org") {
		t.Error("an ACL without allow entries must deny everyone")
	}
	b := parse(t, `{"allow":["good.org", 7, "*.school.lu"]}`)
	if !b.Allowed("good.org") || !b.Allowed("a.school.lu") || b.Allowed("school.lu") || b.Allowed("bad.org") {
		t.Error("allow list not applied")
	}
}

func TestGlob(t *testing.T) {
	cases := []struct {
		p, s string
		want bool
	}{
		{"*", "", true}, {"?", "", false}, {"?", "a", true}, {"a?c", "abc", true}, {"a?c", "ac", false},
		{"*.lu", "x.lu", true}, {"*.lu", "lu", false}, {"a*b*c", "aXXbYYc", true}, {"a*b*c", "aXXbYY", false},
		{"日*", "日本", true}, {"??", "日本", true},
	}
	for _, c := range cases {
		if got := acl.Glob(c.p, c.s); got != c.want {
			t.Errorf("Glob(%q, %q) = %v", c.p, c.s, got)
		}
	}
	// A pathological pattern finishes quickly (would be exponential with naive backtracking).
	p := strings.Repeat("*a", 50) + "b"
	s := strings.Repeat("a", 5000)
	if acl.Glob(p, s) {
		t.Error("pathological pattern matched")
	}
}
