package cjson

import (
	"fmt"
	"sort"
)

// NullValue is JSON null.
func NullValue() Value { return Value{kind: Null} }

// BoolOf is a JSON boolean.
func BoolOf(b bool) Value { return Value{kind: Bool, b: b} }

// IntOf is a JSON integer. Integers outside ±MaxSafeInt are clamped: callers
// that take numbers from outside validate them first.
func IntOf(n int64) Value {
	if n > MaxSafeInt {
		n = MaxSafeInt
	} else if n < -MaxSafeInt {
		n = -MaxSafeInt
	}
	return Value{kind: Int, n: n}
}

// StrOf is a JSON string. The string must be valid UTF-8; invalid bytes are
// replaced by U+FFFD on encoding.
func StrOf(s string) Value { return Value{kind: String, s: s} }

// ArrayOf is a JSON array of the given items.
func ArrayOf(items ...Value) Value {
	return Value{kind: Array, items: append([]Value(nil), items...)}
}

// Strings is a JSON array of strings.
func Strings(ss []string) Value {
	items := make([]Value, len(ss))
	for i, s := range ss {
		items[i] = StrOf(s)
	}
	return Value{kind: Array, items: items}
}

// ObjectOf builds an object from members in any order. A repeated key keeps
// the last value.
func ObjectOf(members ...Member) Value {
	m := append([]Member(nil), members...)
	sort.SliceStable(m, func(i, j int) bool { return m[i].Key < m[j].Key })
	out := m[:0]
	for i := range m {
		if len(out) > 0 && out[len(out)-1].Key == m[i].Key {
			out[len(out)-1] = m[i]
			continue
		}
		out = append(out, m[i])
	}
	return Value{kind: Object, members: out}
}

// M is shorthand for a Member.
func M(key string, v Value) Member { return Member{key, v} }

// EmptyObject is {}.
func EmptyObject() Value { return Value{kind: Object} }

// FromGo converts plain Go data (nil, bool, ints, string, []any, []string,
// map[string]any, map[string]string, Value) into a Value. It refuses floats and
// anything else.
func FromGo(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return NullValue(), nil
	case Value:
		return t, nil
	case bool:
		return BoolOf(t), nil
	case int:
		return checkedInt(int64(t))
	case int64:
		return checkedInt(t)
	case int32:
		return checkedInt(int64(t))
	case uint32:
		return checkedInt(int64(t))
	case string:
		return StrOf(t), nil
	case []string:
		return Strings(t), nil
	case []any:
		items := make([]Value, len(t))
		for i, it := range t {
			v, err := FromGo(it)
			if err != nil {
				return Value{}, err
			}
			items[i] = v
		}
		return Value{kind: Array, items: items}, nil
	case []Value:
		return ArrayOf(t...), nil
	case map[string]any:
		m := make([]Member, 0, len(t))
		for k, it := range t {
			v, err := FromGo(it)
			if err != nil {
				return Value{}, fmt.Errorf("%s: %w", k, err)
			}
			m = append(m, Member{k, v})
		}
		return ObjectOf(m...), nil
	case map[string]string:
		m := make([]Member, 0, len(t))
		for k, s := range t {
			m = append(m, Member{k, StrOf(s)})
		}
		return ObjectOf(m...), nil
	case map[string]Value:
		m := make([]Member, 0, len(t))
		for k, v := range t {
			m = append(m, Member{k, v})
		}
		return ObjectOf(m...), nil
	}
	return Value{}, fmt.Errorf("cjson: cannot represent %T", x)
}

// MustFromGo is FromGo for literals in tests and constant tables; it panics on
// error and must never see outside input.
func MustFromGo(x any) Value {
	v, err := FromGo(x)
	if err != nil {
		panic(err)
	}
	return v
}

func checkedInt(n int64) (Value, error) {
	if n > MaxSafeInt || n < -MaxSafeInt {
		return Value{}, fmt.Errorf("cjson: integer %d out of range", n)
	}
	return Value{kind: Int, n: n}, nil
}
