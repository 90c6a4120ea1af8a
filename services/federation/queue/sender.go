package queue

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Sender delivers one transaction: PUT /_matrix/federation/v1/send/{txnID}
// on destination, signed as the origin. body is the transaction's canonical
// JSON. The federation client implements it.
//
// A nil error means a 200. An answer with another status must come back as
// an *HTTPError so the queue can tell a refusal from a temporary failure;
// any other error (DNS, dial, TLS, timeout, a cancelled ctx) is temporary.
type Sender interface {
	SendTransaction(ctx context.Context, destination, txnID string, body []byte) (*Result, error)
}

// Result is what the destination said about each PDU of a transaction it
// accepted: event ID → error text, for the PDUs it could not process. The
// queue logs these and does not resend the PDUs: the receiver has them.
type Result struct {
	PDUErrors map[string]string
}

// HTTPError is a non-200 answer to /send.
type HTTPError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// RetryAfter is a 429 answer's retry_after_ms; 0 when absent.
	RetryAfter time.Duration
	// Message is the errcode and error text, for logs.
	Message string
}

func (e *HTTPError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("federation send: HTTP %d", e.StatusCode)
	}
	return fmt.Sprintf("federation send: HTTP %d: %s", e.StatusCode, e.Message)
}

// Permanent reports whether resending the same transaction is pointless: a
// 4xx other than 401, 408 and 429. A 401 is retried because the usual
// cause is passing (the receiver could not fetch our keys, e.g. while we
// were unreachable) and dropping would lose to-device messages and the
// like for good.
func (e *HTTPError) Permanent() bool {
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return e.StatusCode >= 400 && e.StatusCode < 500
}

// classify says what a Sender's error means for the queue: drop the
// transaction (permanent), or retry, after retryAfter when the destination
// asked for a delay.
func classify(err error) (permanent bool, retryAfter time.Duration) {
	var he *HTTPError
	if !errors.As(err, &he) {
		return false, 0
	}
	if he.StatusCode == http.StatusTooManyRequests && he.RetryAfter > 0 {
		return false, he.RetryAfter
	}
	return he.Permanent(), 0
}
