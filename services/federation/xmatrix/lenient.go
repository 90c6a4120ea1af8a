package xmatrix

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"hearth/services/matrix/cjson"
)

// lenientCanonical is the canonical form of JSON that strict canonical JSON
// refuses only because of its numbers (floats, exponents, integers beyond
// 2^53): keys sorted, no whitespace, strings escaped canonically, and every
// number kept exactly as written. Other servers sign request bodies that
// carry client data (to-device messages, EDUs) with floats in them; their
// encoder writes the same number text into the body and into the signed
// object, so keeping the literal verifies what they signed. Duplicate keys
// and invalid JSON are still refused.
func lenientCanonical(content []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(content))
	d.UseNumber()
	var buf bytes.Buffer
	if err := writeLenient(&buf, d, 0); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("xmatrix: trailing data after the JSON value")
	}
	return buf.Bytes(), nil
}

// writeLenient copies one JSON value from d to buf in canonical order.
func writeLenient(buf *bytes.Buffer, d *json.Decoder, depth int) error {
	if depth > cjson.MaxDepth {
		return errors.New("xmatrix: JSON nested too deeply")
	}
	tok, err := d.Token()
	if err != nil {
		return err
	}
	switch x := tok.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		if x {
			buf.WriteString("true")
		} else {
			buf.WriteString("false")
		}
	case json.Number:
		buf.WriteString(x.String())
	case string:
		buf.Write(cjson.Encode(cjson.StrOf(x)))
	case json.Delim:
		switch x {
		case '[':
			buf.WriteByte('[')
			for i := 0; d.More(); i++ {
				if i > 0 {
					buf.WriteByte(',')
				}
				if err := writeLenient(buf, d, depth+1); err != nil {
					return err
				}
			}
			buf.WriteByte(']')
		case '{':
			type member struct{ key, val string }
			var members []member
			seen := map[string]bool{}
			for d.More() {
				kt, err := d.Token()
				if err != nil {
					return err
				}
				k, ok := kt.(string)
				if !ok || seen[k] {
					return fmt.Errorf("xmatrix: duplicate or bad key %v", kt)
				}
				seen[k] = true
				var vb bytes.Buffer
				if err := writeLenient(&vb, d, depth+1); err != nil {
					return err
				}
				members = append(members, member{k, vb.String()})
			}
			sort.Slice(members, func(i, j int) bool { return members[i].key < members[j].key })
			buf.WriteByte('{')
			for i, m := range members {
				if i > 0 {
					buf.WriteByte(',')
				}
				buf.Write(cjson.Encode(cjson.StrOf(m.key)))
				buf.WriteByte(':')
				buf.WriteString(m.val)
			}
			buf.WriteByte('}')
		default:
			return errors.New("xmatrix: unexpected delimiter")
		}
		if _, err := d.Token(); err != nil { // the closing delimiter
			return err
		}
	default:
		return errors.New("xmatrix: unexpected JSON token")
	}
	return nil
}
