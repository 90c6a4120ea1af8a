// Package cjson is Matrix canonical JSON: a strict decoder that keeps integers
// exact and an encoder that is canonical by construction.
//
// The spec (appendices, "Canonical JSON") asks for object keys sorted by code
// point, no insignificant whitespace, integers only within [-(2^53)+1, 2^53-1],
// raw UTF-8 in strings, and escapes only for '"', '\' and control characters.
// Hashes and signatures are computed over that form, so a single byte of
// difference splits a room. encoding/json is not canonical (it escapes <, >, &
// and U+2028/9 and turns numbers into float64), so this package has its own
// decoder and encoder.
//
// Decode returns a Value: an immutable tree whose objects keep their members
// sorted by key, so that Encode only has to walk it. Every decoding error is a
// *SyntaxError; callers at the HTTP edge turn it into M_BAD_JSON or M_NOT_JSON.
package cjson
