package acl

import (
	"net/netip"
	"strings"

	"hearth/services/matrix/cjson"
)

// maxPatterns bounds how many allow/deny entries are considered, so that a
// hostile ACL cannot make every request expensive.
const maxPatterns = 1000

// ACL is a parsed m.room.server_acl content. The zero ACL (no event in the
// room) allows everyone; use Parse for an event's content.
type ACL struct {
	present         bool
	allowIPLiterals bool
	allow, deny     []string
}

// Parse reads an ACL event's content. Entries that are not strings are
// ignored; allow_ip_literals defaults to true unless it is the boolean false.
func Parse(content cjson.Value) ACL {
	a := ACL{present: true, allowIPLiterals: true}
	if b, ok := content.Get("allow_ip_literals").BoolValue(); ok && !b {
		a.allowIPLiterals = false
	}
	a.allow = patterns(content.Get("allow"))
	a.deny = patterns(content.Get("deny"))
	return a
}

func patterns(v cjson.Value) []string {
	var out []string
	for i, it := range v.Items() {
		if i >= maxPatterns {
			break
		}
		if s, ok := it.Str(); ok {
			out = append(out, strings.ToLower(s))
		}
	}
	return out
}

// Allowed applies the ACL to a server name; the port is not considered.
func (a ACL) Allowed(serverName string) bool {
	if !a.present {
		return true
	}
	host := strings.ToLower(stripPort(serverName))
	if !a.allowIPLiterals && isIPLiteral(host) {
		return false
	}
	for _, p := range a.deny {
		if Glob(p, host) {
			return false
		}
	}
	for _, p := range a.allow {
		if Glob(p, host) {
			return true
		}
	}
	return false
}

func stripPort(name string) string {
	if strings.HasPrefix(name, "[") {
		if i := strings.IndexByte(name, ']'); i > 0 {
			return name[:i+1]
		}
		return name
	}
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		return name[:i]
	}
	return name
}

func isIPLiteral(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		_, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Is4()
}

// Glob matches a glob-style pattern ('*' any run of characters, '?' exactly
// one) against s, in time linear in len(pattern)*len(s) at worst (no
// exponential backtracking). Matching is on characters, not bytes.
func Glob(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
