package cjson

import (
	"bytes"
	"encoding/json"
	"errors"
)

// Raw is the Kind of a Value that carries client JSON verbatim.
const Raw Kind = 100

// RawJSON wraps JSON that is not canonical JSON but must be passed through
// unchanged: account data and other unsigned client data may hold floats,
// which the strict decoder refuses. The bytes are checked to be one valid
// JSON value and compacted. Never use it for anything that is hashed or
// signed.
func RawJSON(data []byte) (Value, error) {
	if !json.Valid(data) {
		return Value{}, errors.New("cjson: not valid JSON")
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return Value{}, err
	}
	return Value{kind: Raw, s: buf.String()}, nil
}
