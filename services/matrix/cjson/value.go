package cjson

import (
	"sort"
	"strings"
)

// Kind is the JSON type of a Value.
type Kind uint8

// The JSON types. Invalid is the zero Value: "absent", as returned by Get for a
// missing key.
const (
	Invalid Kind = iota
	Null
	Bool
	Int
	String
	Array
	Object
)

func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case Bool:
		return "boolean"
	case Int:
		return "integer"
	case String:
		return "string"
	case Array:
		return "array"
	case Object:
		return "object"
	case Raw:
		return "raw JSON"
	}
	return "absent"
}

// MaxSafeInt is the largest integer canonical JSON allows (2^53-1); the smallest
// is its negation.
const MaxSafeInt = 1<<53 - 1

// Value is one decoded JSON value. The zero Value is "absent" (Kind Invalid).
// Values are immutable: the methods that change one return a new Value and
// share the untouched parts with the old one.
type Value struct {
	kind    Kind
	b       bool
	n       int64
	s       string
	items   []Value
	members []Member // sorted by Key, byte order (= code point order for UTF-8)
}

// Member is one key of an object.
type Member struct {
	Key   string
	Value Value
}

// Kind reports the JSON type; Invalid means absent.
func (v Value) Kind() Kind { return v.kind }

// Exists reports whether v is present (of any kind, null included).
func (v Value) Exists() bool { return v.kind != Invalid }

// IsNull reports whether v is JSON null.
func (v Value) IsNull() bool { return v.kind == Null }

// Str returns the string and whether v is a string.
func (v Value) Str() (string, bool) { return v.s, v.kind == String }

// StrOr returns the string, or def when v is not a string.
func (v Value) StrOr(def string) string {
	if v.kind != String {
		return def
	}
	return v.s
}

// IntValue returns the integer and whether v is an integer.
func (v Value) IntValue() (int64, bool) { return v.n, v.kind == Int }

// BoolValue returns the boolean and whether v is a boolean.
func (v Value) BoolValue() (bool, bool) { return v.b, v.kind == Bool }

// Len is the number of items of an array or members of an object, else 0.
func (v Value) Len() int {
	switch v.kind {
	case Array:
		return len(v.items)
	case Object:
		return len(v.members)
	}
	return 0
}

// Items returns the elements of an array (nil otherwise). Do not modify them.
func (v Value) Items() []Value {
	if v.kind != Array {
		return nil
	}
	return v.items
}

// Members returns the members of an object in key order (nil otherwise). Do not
// modify them.
func (v Value) Members() []Member {
	if v.kind != Object {
		return nil
	}
	return v.members
}

// Get returns the member with the given key, or the absent Value.
func (v Value) Get(key string) Value {
	if v.kind != Object {
		return Value{}
	}
	i, ok := v.find(key)
	if !ok {
		return Value{}
	}
	return v.members[i].Value
}

// Path follows keys through nested objects: v.Path("content", "membership").
func (v Value) Path(keys ...string) Value {
	for _, k := range keys {
		v = v.Get(k)
	}
	return v
}

// Has reports whether an object has the key.
func (v Value) Has(key string) bool {
	_, ok := v.find(key)
	return ok && v.kind == Object
}

func (v Value) find(key string) (int, bool) {
	m := v.members
	i := sort.Search(len(m), func(i int) bool { return m[i].Key >= key })
	return i, i < len(m) && m[i].Key == key
}

// StringList returns the items of an array of strings; ok is false when v is
// not an array or holds anything but strings.
func (v Value) StringList() ([]string, bool) {
	if v.kind != Array {
		return nil, false
	}
	out := make([]string, len(v.items))
	for i, it := range v.items {
		if it.kind != String {
			return nil, false
		}
		out[i] = it.s
	}
	return out, true
}

// With returns a copy of the object v with key set to val (added or replaced).
// On a non-object it returns an object holding only that member.
func (v Value) With(key string, val Value) Value {
	if v.kind != Object {
		return Value{kind: Object, members: []Member{{key, val}}}
	}
	i, ok := v.find(key)
	n := len(v.members)
	if ok {
		m := make([]Member, n)
		copy(m, v.members)
		m[i].Value = val
		return Value{kind: Object, members: m}
	}
	m := make([]Member, n+1)
	copy(m, v.members[:i])
	m[i] = Member{key, val}
	copy(m[i+1:], v.members[i:])
	return Value{kind: Object, members: m}
}

// Without returns a copy of the object v with the given keys removed.
func (v Value) Without(keys ...string) Value {
	if v.kind != Object {
		return v
	}
	m := make([]Member, 0, len(v.members))
	for _, mem := range v.members {
		drop := false
		for _, k := range keys {
			if mem.Key == k {
				drop = true
				break
			}
		}
		if !drop {
			m = append(m, mem)
		}
	}
	return Value{kind: Object, members: m}
}

// Only returns a copy of the object v that keeps just the given keys.
func (v Value) Only(keys ...string) Value {
	if v.kind != Object {
		return v
	}
	m := make([]Member, 0, len(keys))
	for _, mem := range v.members {
		for _, k := range keys {
			if mem.Key == k {
				m = append(m, mem)
				break
			}
		}
	}
	return Value{kind: Object, members: m}
}

// Equal reports whether two values are the same JSON.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind {
		return false
	}
	switch v.kind {
	case Bool:
		return v.b == w.b
	case Int:
		return v.n == w.n
	case String, Raw:
		return v.s == w.s
	case Array:
		if len(v.items) != len(w.items) {
			return false
		}
		for i := range v.items {
			if !v.items[i].Equal(w.items[i]) {
				return false
			}
		}
		return true
	case Object:
		if len(v.members) != len(w.members) {
			return false
		}
		for i := range v.members {
			if v.members[i].Key != w.members[i].Key || !v.members[i].Value.Equal(w.members[i].Value) {
				return false
			}
		}
		return true
	}
	return true
}

// String returns the canonical encoding, for logs and tests.
func (v Value) String() string {
	var sb strings.Builder
	sb.Write(Encode(v))
	return sb.String()
}
