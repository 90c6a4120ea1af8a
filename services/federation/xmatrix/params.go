package xmatrix

import (
	"errors"
	"strings"
)

// paramParser walks the comma-separated auth-param list after the scheme:
//
//	#auth-param = [ auth-param ] *( OWS "," OWS [ auth-param ] )
//	auth-param  = token BWS "=" BWS ( token / quoted-string )
type paramParser struct {
	s   string
	pos int
}

// next returns the next parameter with its name lower-cased and its value
// unescaped, or done at the end of the list.
func (p *paramParser) next() (name, value string, done bool, err error) {
	// Skip whitespace and empty list elements.
	for p.pos < len(p.s) && (isWS(p.s[p.pos]) || p.s[p.pos] == ',') {
		p.pos++
	}
	if p.pos == len(p.s) {
		return "", "", true, nil
	}
	start := p.pos
	for p.pos < len(p.s) && isTchar(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", "", false, errors.New("expected a parameter name")
	}
	name = strings.ToLower(p.s[start:p.pos])
	p.skipWS()
	if p.pos == len(p.s) || p.s[p.pos] != '=' {
		return "", "", false, errors.New("expected '=' after " + name)
	}
	p.pos++
	p.skipWS()
	if p.pos < len(p.s) && p.s[p.pos] == '"' {
		value, err = p.quoted()
	} else {
		value, err = p.bare()
	}
	if err != nil {
		return "", "", false, err
	}
	// After a value: whitespace, then a comma or the end.
	p.skipWS()
	if p.pos < len(p.s) && p.s[p.pos] != ',' {
		return "", "", false, errors.New("expected ',' after the value of " + name)
	}
	return name, value, false, nil
}

func (p *paramParser) skipWS() {
	for p.pos < len(p.s) && isWS(p.s[p.pos]) {
		p.pos++
	}
}

func (p *paramParser) bare() (string, error) {
	start := p.pos
	for p.pos < len(p.s) && isBare(p.s[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		return "", errors.New("expected a value")
	}
	return p.s[start:p.pos], nil
}

// quoted reads a quoted-string (RFC 9110 §5.6.4):
//
//	quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
//	qdtext        = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
//	quoted-pair   = "\" ( HTAB / SP / VCHAR / obs-text )
func (p *paramParser) quoted() (string, error) {
	p.pos++ // opening quote
	var sb strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return sb.String(), nil
		case c == '\\':
			if p.pos+1 == len(p.s) || !isQuotable(p.s[p.pos+1]) {
				return "", errors.New("bad escape in quoted value")
			}
			sb.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case isQuotable(c):
			sb.WriteByte(c)
			p.pos++
		default:
			return "", errors.New("control character in quoted value")
		}
	}
	return "", errors.New("unterminated quoted value")
}

// isQuotable: HTAB, SP, VCHAR and obs-text, i.e. anything but the other
// control characters and DEL.
func isQuotable(c byte) bool { return c == '\t' || (c >= 0x20 && c != 0x7f) }
