package cjson

import (
	"errors"
	"fmt"
	"sort"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth is how deeply arrays and objects may nest. Matrix events nest a
// handful of levels; the limit keeps a hostile document from exhausting the
// stack or the CPU.
const MaxDepth = 64

// ErrNotJSON marks input that is not JSON at all (M_NOT_JSON at the edge).
var ErrNotJSON = errors.New("not JSON")

// ErrBadJSON marks input that is JSON but not allowed in canonical JSON:
// non-integer numbers, integers out of range, duplicate keys, nesting deeper
// than MaxDepth (M_BAD_JSON at the edge).
var ErrBadJSON = errors.New("not canonical JSON")

// SyntaxError says where and why decoding failed. errors.Is(err, ErrNotJSON)
// or errors.Is(err, ErrBadJSON) tells which class it is.
type SyntaxError struct {
	Offset int // byte offset in the input
	Msg    string
	kind   error
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("cjson: %s at offset %d", e.Msg, e.Offset)
}

// Unwrap returns ErrNotJSON or ErrBadJSON.
func (e *SyntaxError) Unwrap() error { return e.kind }

// Decode parses one JSON document. It rejects anything canonical JSON does not
// allow; numbers written with a fraction or exponent are accepted only when
// their value is an exact integer in range (the spec's own example turns 1e10
// into 10000000000), and become that integer.
func Decode(data []byte) (Value, error) {
	d := decoder{data: data}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return Value{}, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return Value{}, d.notJSON("unexpected data after the top-level value")
	}
	return v, nil
}

// DecodeObject is Decode for documents that must be a JSON object.
func DecodeObject(data []byte) (Value, error) {
	v, err := Decode(data)
	if err != nil {
		return Value{}, err
	}
	if v.kind != Object {
		return Value{}, &SyntaxError{Offset: 0, Msg: "top-level value is not an object", kind: ErrBadJSON}
	}
	return v, nil
}

// Canonicalize returns the canonical encoding of a JSON document.
func Canonicalize(data []byte) ([]byte, error) {
	v, err := Decode(data)
	if err != nil {
		return nil, err
	}
	return Encode(v), nil
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) notJSON(msg string) error {
	return &SyntaxError{Offset: d.pos, Msg: msg, kind: ErrNotJSON}
}

func (d *decoder) bad(msg string) error {
	return &SyntaxError{Offset: d.pos, Msg: msg, kind: ErrBadJSON}
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (Value, error) {
	if d.pos >= len(d.data) {
		return Value{}, d.notJSON("unexpected end of input")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return Value{}, err
		}
		return Value{kind: String, s: s}, nil
	case c == 't':
		return d.literal("true", Value{kind: Bool, b: true})
	case c == 'f':
		return d.literal("false", Value{kind: Bool})
	case c == 'n':
		return d.literal("null", Value{kind: Null})
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	}
	return Value{}, d.notJSON(fmt.Sprintf("unexpected character %q", d.data[d.pos]))
}

func (d *decoder) literal(word string, v Value) (Value, error) {
	if len(d.data)-d.pos < len(word) || string(d.data[d.pos:d.pos+len(word)]) != word {
		return Value{}, d.notJSON("invalid literal")
	}
	d.pos += len(word)
	return v, nil
}

func (d *decoder) object(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, d.bad("nesting too deep")
	}
	d.pos++ // '{'
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return Value{kind: Object}, nil
	}
	var members []Member
	sorted := true
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return Value{}, d.notJSON("expected a string key")
		}
		keyPos := d.pos
		key, err := d.str()
		if err != nil {
			return Value{}, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return Value{}, d.notJSON("expected ':'")
		}
		d.pos++
		d.skipSpace()
		val, err := d.value(depth)
		if err != nil {
			return Value{}, err
		}
		if n := len(members); n > 0 && sorted && members[n-1].Key >= key {
			if members[n-1].Key == key {
				d.pos = keyPos
				return Value{}, d.bad(fmt.Sprintf("duplicate key %q", key))
			}
			sorted = false
		}
		members = append(members, Member{key, val})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return Value{}, d.notJSON("unexpected end of input in object")
		}
		if d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.data[d.pos] == '}' {
			d.pos++
			break
		}
		return Value{}, d.notJSON("expected ',' or '}'")
	}
	if !sorted {
		sort.Slice(members, func(i, j int) bool { return members[i].Key < members[j].Key })
		for i := 1; i < len(members); i++ {
			if members[i].Key == members[i-1].Key {
				return Value{}, d.bad(fmt.Sprintf("duplicate key %q", members[i].Key))
			}
		}
	}
	return Value{kind: Object, members: members}, nil
}

func (d *decoder) array(depth int) (Value, error) {
	if depth > MaxDepth {
		return Value{}, d.bad("nesting too deep")
	}
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return Value{kind: Array, items: []Value{}}, nil
	}
	var items []Value
	for {
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return Value{}, err
		}
		items = append(items, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return Value{}, d.notJSON("unexpected end of input in array")
		}
		if d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.data[d.pos] == ']' {
			d.pos++
			return Value{kind: Array, items: items}, nil
		}
		return Value{}, d.notJSON("expected ',' or ']'")
	}
}

// str reads a string token starting at the opening quote.
func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	// Fast path: no escapes, ASCII or valid UTF-8.
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			s := d.data[start:d.pos]
			if !utf8.Valid(s) {
				return "", d.notJSON("invalid UTF-8 in string")
			}
			d.pos++
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", d.notJSON("control character in string")
		}
		d.pos++
	}
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			if !utf8.Valid(buf) {
				return "", d.notJSON("invalid UTF-8 in string")
			}
			d.pos++
			return string(buf), nil
		case c < 0x20:
			return "", d.notJSON("control character in string")
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		// Escape sequence.
		if d.pos+1 >= len(d.data) {
			return "", d.notJSON("unexpected end of input in escape")
		}
		e := d.data[d.pos+1]
		d.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := d.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || d.pos+1 >= len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
					return "", d.notJSON("unpaired surrogate in string")
				}
				d.pos += 2
				r2, err := d.hex4()
				if err != nil {
					return "", err
				}
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return "", d.notJSON("unpaired surrogate in string")
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", d.notJSON("invalid escape in string")
		}
	}
	return "", d.notJSON("unterminated string")
}

func (d *decoder) hex4() (rune, error) {
	if len(d.data)-d.pos < 4 {
		return 0, d.notJSON("short \\u escape")
	}
	var r rune
	for i := 0; i < 4; i++ {
		c := d.data[d.pos+i]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, d.notJSON("invalid \\u escape")
		}
	}
	d.pos += 4
	return r, nil
}

// number reads a JSON number and keeps it only if its value is an exact
// integer within ±MaxSafeInt.
func (d *decoder) number() (Value, error) {
	start := d.pos
	neg := false
	if d.data[d.pos] == '-' {
		neg = true
		d.pos++
	}
	intStart := d.pos
	if d.pos >= len(d.data) || d.data[d.pos] < '0' || d.data[d.pos] > '9' {
		return Value{}, d.notJSON("invalid number")
	}
	if d.data[d.pos] == '0' {
		d.pos++
	} else {
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
	}
	intDigits := d.data[intStart:d.pos]
	var fracDigits []byte
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		fs := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			d.pos++
		}
		if d.pos == fs {
			return Value{}, d.notJSON("invalid number")
		}
		fracDigits = d.data[fs:d.pos]
	}
	exp := 0
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		eneg := false
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			eneg = d.data[d.pos] == '-'
			d.pos++
		}
		es := d.pos
		for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
			if exp < 1_000_000 {
				exp = exp*10 + int(d.data[d.pos]-'0')
			}
			d.pos++
		}
		if d.pos == es {
			return Value{}, d.notJSON("invalid number")
		}
		if eneg {
			exp = -exp
		}
	}
	if len(fracDigits) == 0 && exp == 0 {
		// Plain integer: the common case.
		if len(intDigits) > 16 {
			return Value{}, d.badAt(start, "integer out of range")
		}
		var n int64
		for _, c := range intDigits {
			n = n*10 + int64(c-'0')
		}
		if n > MaxSafeInt {
			return Value{}, d.badAt(start, "integer out of range")
		}
		if neg {
			n = -n
		}
		return Value{kind: Int, n: n}, nil
	}
	// digits × 10^exp, exactly.
	digits := make([]byte, 0, len(intDigits)+len(fracDigits))
	digits = append(digits, intDigits...)
	digits = append(digits, fracDigits...)
	exp -= len(fracDigits)
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return Value{kind: Int}, nil // 0, -0, 0.0e5 …
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		exp++
	}
	if exp < 0 {
		return Value{}, d.badAt(start, "number is not an integer")
	}
	if len(digits)+exp > 16 {
		return Value{}, d.badAt(start, "integer out of range")
	}
	var n int64
	for _, c := range digits {
		n = n*10 + int64(c-'0')
	}
	for i := 0; i < exp; i++ {
		n *= 10
	}
	if n > MaxSafeInt {
		return Value{}, d.badAt(start, "integer out of range")
	}
	if neg {
		n = -n
	}
	return Value{kind: Int, n: n}, nil
}

func (d *decoder) badAt(pos int, msg string) error {
	return &SyntaxError{Offset: pos, Msg: msg, kind: ErrBadJSON}
}
