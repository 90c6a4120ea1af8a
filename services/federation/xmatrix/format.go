package xmatrix

import (
	"fmt"
	"strings"
)

// Format writes p in the form the spec asks senders to use for
// compatibility: one space after the scheme, lower-case names, every value
// quoted, no backslashes and no whitespace around commas:
//
//	X-Matrix origin="a",destination="b",key="ed25519:k",sig="…"
//
// Destination is left out when empty (only so that Parse and Format round
// trip; Sign always sets it). A value holding '"', '\' or a control
// character is refused: server names, key IDs and base64 never do.
func Format(p Params) (string, error) {
	var sb strings.Builder
	sb.WriteString(Scheme)
	sb.WriteByte(' ')
	params := []struct{ name, value string }{
		{"origin", p.Origin},
		{"destination", p.Destination},
		{"key", p.KeyID},
		{"sig", p.Sig},
	}
	first := true
	for _, kv := range params {
		if kv.value == "" {
			if kv.name == "destination" {
				continue
			}
			return "", fmt.Errorf("xmatrix: %s is empty", kv.name)
		}
		if i := strings.IndexFunc(kv.value, unformattable); i >= 0 {
			return "", fmt.Errorf("xmatrix: %s holds %q, which the conservative form cannot carry", kv.name, kv.value[i])
		}
		if !first {
			sb.WriteByte(',')
		}
		first = false
		sb.WriteString(kv.name)
		sb.WriteString(`="`)
		sb.WriteString(kv.value)
		sb.WriteByte('"')
	}
	if sb.Len() > MaxHeaderLen {
		return "", fmt.Errorf("xmatrix: header longer than %d bytes", MaxHeaderLen)
	}
	return sb.String(), nil
}

func unformattable(r rune) bool { return r == '"' || r == '\\' || r < 0x20 || r == 0x7f }
