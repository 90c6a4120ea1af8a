package queue

import (
	"errors"
	"fmt"

	"hearth/services/matrix/cjson"
)

// checkPDU makes sure the receiver's strict parser will take the event:
// one canonical-JSON object of at most 65,536 bytes. The bytes themselves
// are sent as they are.
func checkPDU(event []byte) error {
	if len(event) > maxPDUBytes {
		return fmt.Errorf("queue: PDU of %d bytes exceeds %d", len(event), maxPDUBytes)
	}
	if _, err := cjson.DecodeObject(event); err != nil {
		return fmt.Errorf("queue: PDU: %w", err)
	}
	return nil
}

// encodeEDU builds the EDU object {"content":…,"edu_type":…} in canonical
// JSON. content must be a JSON object the strict decoder accepts (no
// floats): a Hearth receiver rejects a whole transaction otherwise.
func encodeEDU(eduType string, content []byte) ([]byte, error) {
	if eduType == "" || len(eduType) > 255 {
		return nil, errors.New("queue: EDU type must be 1 to 255 bytes")
	}
	c, err := cjson.DecodeObject(content)
	if err != nil {
		return nil, fmt.Errorf("queue: EDU %s content: %w", eduType, err)
	}
	b := cjson.Encode(cjson.ObjectOf(cjson.M("content", c), cjson.M("edu_type", cjson.StrOf(eduType))))
	if len(b) > maxEDUBytes {
		return nil, fmt.Errorf("queue: EDU %s of %d bytes exceeds %d", eduType, len(b), maxEDUBytes)
	}
	return b, nil
}

// buildBody writes the transaction {"edus":[…],"origin":…,
// "origin_server_ts":…,"pdus":[…]} with its keys in canonical order, the
// PDUs and EDUs copied in verbatim. "edus" is left out when empty, as the
// spec allows.
func buildBody(origin string, ts int64, pdus, edus [][]byte) []byte {
	n := 64 + len(origin)
	for _, p := range pdus {
		n += len(p) + 1
	}
	for _, e := range edus {
		n += len(e) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	if len(edus) > 0 {
		b = append(b, `"edus":`...)
		b = appendList(b, edus)
		b = append(b, ',')
	}
	b = append(b, `"origin":`...)
	b = cjson.AppendEncode(b, cjson.StrOf(origin))
	b = append(b, `,"origin_server_ts":`...)
	b = cjson.AppendEncode(b, cjson.IntOf(ts))
	b = append(b, `,"pdus":`...)
	b = appendList(b, pdus)
	return append(b, '}')
}

func appendList(b []byte, items [][]byte) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}
