package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"hearth/services/federation/queue"
)

// The Client as the other packages need it: the key ring's fetcher and
// the queue's sender.

// KeyFetcher adapts a Client to keys.Fetcher.
type KeyFetcher struct{ C *Client }

// ServerKeys is GET /_matrix/key/v2/server on server (unsigned: the key
// endpoints need no authentication, but signing does no harm).
func (k KeyFetcher) ServerKeys(ctx context.Context, server string) ([]byte, error) {
	return k.C.DoRaw(ctx, server, "GET", "/_matrix/key/v2/server", nil)
}

// NotaryQuery is POST /_matrix/key/v2/query on notary.
func (k KeyFetcher) NotaryQuery(ctx context.Context, notary string, body []byte) ([]byte, error) {
	return k.C.DoRaw(ctx, notary, "POST", "/_matrix/key/v2/query", body)
}

// TxnSender adapts a Client to queue.Sender.
type TxnSender struct{ C *Client }

// SendTransaction is PUT /send/{txnId}.
func (t TxnSender) SendTransaction(ctx context.Context, dest, txnID string, body []byte) (*queue.Result, error) {
	raw, err := t.C.DoRaw(ctx, dest, "PUT", "/_matrix/federation/v1/send/"+url.PathEscape(txnID), body)
	var re *RemoteError
	if errors.As(err, &re) {
		return nil, &queue.HTTPError{StatusCode: re.StatusCode, RetryAfter: re.RetryAfter, Message: re.ErrCode + ": " + re.Message}
	}
	if err != nil {
		return nil, err
	}
	var resp struct {
		PDUs map[string]struct {
			Error string `json:"error"`
		} `json:"pdus"`
	}
	res := &queue.Result{PDUErrors: map[string]string{}}
	if json.Unmarshal(raw, &resp) == nil {
		for id, r := range resp.PDUs {
			if r.Error != "" {
				res.PDUErrors[id] = r.Error
			}
		}
	}
	return res, nil
}

// statusOf is the HTTP status of a remote error, or 0.
func statusOf(err error) int {
	var re *RemoteError
	if errors.As(err, &re) {
		return re.StatusCode
	}
	return 0
}
