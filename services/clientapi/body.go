package clientapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"hearth/services/matrix/cjson"
)

// readObject reads a bounded JSON object body with the canonical JSON rules
// (no floats, no duplicate keys, bounded depth). An empty body is {}.
func (a *API) readObject(r *http.Request) (cjson.Value, error) {
	data, err := a.readBody(r)
	if err != nil {
		return cjson.Value{}, err
	}
	if len(data) == 0 {
		return cjson.EmptyObject(), nil
	}
	v, err := cjson.Decode(data)
	if err != nil {
		if errors.Is(err, cjson.ErrNotJSON) {
			return cjson.Value{}, errNotJSON("Content not JSON: %v", err)
		}
		return cjson.Value{}, errBadJSON("%v", err)
	}
	if v.Kind() != cjson.Object {
		return cjson.Value{}, errBadJSON("Body must be a JSON object")
	}
	return v, nil
}

// readInto decodes a bounded JSON object body into a struct for endpoints
// whose bodies have a fixed shape. Wrong types are M_BAD_JSON.
func (a *API) readInto(r *http.Request, dst any) error {
	data, err := a.readBody(r)
	if err != nil {
		return err
	}
	if len(data) == 0 {
		data = []byte("{}")
	}
	if _, err := cjson.DecodeObject(data); err != nil {
		if errors.Is(err, cjson.ErrNotJSON) {
			return errNotJSON("Content not JSON: %v", err)
		}
		return errBadJSON("%v", err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return errBadJSON("%v", err)
	}
	return nil
}

func (a *API) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	limit := a.opts.MaxBodyBytes
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, errBadJSON("reading body: %v", err)
	}
	if int64(len(data)) > limit {
		return nil, Errf(http.StatusRequestEntityTooLarge, "M_TOO_LARGE", "Body larger than %d bytes", limit)
	}
	return data, nil
}
