// Package clientapi serves /_matrix/client/* (and the well-known and
// media-free discovery endpoints): it turns HTTP requests into calls on the
// users, roomserver and sync services and their answers into JSON. It keeps
// no storage of its own.
//
// Every failure leaves as a Matrix error ({"errcode","error"} with the right
// status): unknown paths and methods are M_UNRECOGNIZED, bodies are bounded
// and must be JSON objects, and rate limits answer M_LIMIT_EXCEEDED with
// retry_after_ms. Each endpoint group lives in its own file.
package clientapi
