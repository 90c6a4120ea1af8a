package push

import (
	"strings"

	"hearth/services/matrix/cjson"
)

// Dot-separated property paths (appendices): "content.m\.relates_to" is the
// member "m.relates_to" of "content". "\." is a literal dot and "\\" a
// literal backslash; any other backslash is kept as it is.

const (
	maxKeyBytes    = 1024
	maxKeySegments = 32
)

// parsePath splits a key into property names; ok is false for keys over the
// limits.
func parsePath(key string) (path []string, ok bool) {
	if len(key) > maxKeyBytes {
		return nil, false
	}
	if !strings.Contains(key, `\`) {
		path = strings.Split(key, ".")
		return path, len(path) <= maxKeySegments
	}
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '\\' && i+1 < len(key) && (key[i+1] == '.' || key[i+1] == '\\'):
			b.WriteByte(key[i+1])
			i++
		case c == '.':
			path = append(path, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	path = append(path, b.String())
	return path, len(path) <= maxKeySegments
}

// lookup follows path through nested objects of ev; the result is absent
// when some step is missing or not an object.
func lookup(ev cjson.Value, path []string) cjson.Value {
	v := ev
	for _, k := range path {
		v = normalize(v)
		if v.Kind() != cjson.Object {
			return cjson.Value{}
		}
		v = v.Get(k)
	}
	return normalize(v)
}

// normalize decodes a Raw value (client JSON kept verbatim) so that it can be
// inspected; Raw JSON that is not canonical (floats) counts as absent.
func normalize(v cjson.Value) cjson.Value {
	if v.Kind() != cjson.Raw {
		return v
	}
	d, err := cjson.Decode(cjson.Encode(v))
	if err != nil {
		return cjson.Value{}
	}
	return d
}
