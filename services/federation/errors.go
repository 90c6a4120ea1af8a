package federation

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// Error is a Matrix error answered to another server.
type Error struct {
	Status     int
	Code       string
	Msg        string
	RetryAfter int64 // ms, for M_LIMIT_EXCEEDED
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Msg) }

func errf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Msg: fmt.Sprintf(format, args...)}
}

func errForbidden(format string, args ...any) *Error {
	return errf(http.StatusForbidden, "M_FORBIDDEN", format, args...)
}

func errNotFound(format string, args ...any) *Error {
	return errf(http.StatusNotFound, "M_NOT_FOUND", format, args...)
}

func errBadJSON(format string, args ...any) *Error {
	return errf(http.StatusBadRequest, "M_BAD_JSON", format, args...)
}

func errInvalidParam(format string, args ...any) *Error {
	return errf(http.StatusBadRequest, "M_INVALID_PARAM", format, args...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errcode":"M_UNKNOWN","error":"encoding failed"}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errf(http.StatusInternalServerError, "M_UNKNOWN", "internal error")
	}
	body := map[string]any{"errcode": e.Code, "error": e.Msg}
	if e.RetryAfter > 0 {
		body["retry_after_ms"] = e.RetryAfter
		w.Header().Set("Retry-After", strconv.FormatInt((e.RetryAfter+999)/1000, 10))
	}
	writeJSON(w, e.Status, body)
}
