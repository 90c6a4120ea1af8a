package clientapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error is a Matrix error at the HTTP edge.
type Error struct {
	Status int
	Code   string
	Msg    string
	Extra  map[string]any // merged into the JSON body (e.g. retry_after_ms, soft_logout)
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

// Errf builds an Error.
func Errf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Common errors.
func errBadJSON(format string, a ...any) *Error {
	return Errf(http.StatusBadRequest, "M_BAD_JSON", format, a...)
}
func errNotJSON(format string, a ...any) *Error {
	return Errf(http.StatusBadRequest, "M_NOT_JSON", format, a...)
}
func errMissingParam(format string, a ...any) *Error {
	return Errf(http.StatusBadRequest, "M_MISSING_PARAM", format, a...)
}
func errInvalidParam(format string, a ...any) *Error {
	return Errf(http.StatusBadRequest, "M_INVALID_PARAM", format, a...)
}
func errForbidden(format string, a ...any) *Error {
	return Errf(http.StatusForbidden, "M_FORBIDDEN", format, a...)
}
func errNotFound(format string, a ...any) *Error {
	return Errf(http.StatusNotFound, "M_NOT_FOUND", format, a...)
}
func errUnrecognized(status int) *Error {
	return Errf(status, "M_UNRECOGNIZED", "Unrecognized request")
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errcode":"M_UNKNOWN","error":"response encoding failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeError writes err as a Matrix error; errors that are not *Error become
// M_UNKNOWN 500 (their text is logged by the caller, not sent).
func writeError(w http.ResponseWriter, err error) {
	var me *Error
	if !errors.As(err, &me) {
		me = Errf(http.StatusInternalServerError, "M_UNKNOWN", "Internal server error")
	}
	body := map[string]any{"errcode": me.Code, "error": me.Msg}
	for k, v := range me.Extra {
		body[k] = v
	}
	if ms, ok := me.Extra["retry_after_ms"].(int64); ok {
		w.Header().Set("Retry-After", strconv.FormatInt((ms+999)/1000, 10))
	}
	writeJSON(w, me.Status, body)
}
