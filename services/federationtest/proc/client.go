package proc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
)

// maxAnswer bounds a client API answer the harness reads.
const maxAnswer = 8 << 20

// User is an account on a node, with a minimal Matrix client. Its methods
// are safe for concurrent use and return errors instead of failing the
// test, so that writers can run in goroutines.
type User struct {
	Node  *Node
	ID    string
	Token string
	txn   atomic.Int64
}

// HTTPError is a client API answer other than 200.
type HTTPError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// Register creates localpart on the node with the single-request
// m.login.dummy registration and returns the logged-in user.
func (nd *Node) Register(localpart string) (*User, error) {
	u := &User{Node: nd}
	var out struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	err := u.call("POST", "/_matrix/client/v3/register", map[string]any{
		"username": localpart, "password": "correct horse battery staple",
		"auth": map[string]any{"type": "m.login.dummy"},
	}, &out)
	if err != nil {
		return nil, fmt.Errorf("register %s on %s: %w", localpart, nd.Label, err)
	}
	if out.UserID == "" || out.AccessToken == "" {
		return nil, fmt.Errorf("register %s on %s: no user_id or access_token", localpart, nd.Label)
	}
	u.ID, u.Token = out.UserID, out.AccessToken
	return u, nil
}

// call sends body (JSON, unless nil) and decodes a 200 answer into out
// (unless nil). Any other status is an *HTTPError.
func (u *User) call(method, path string, body, out any) error {
	base := u.Node.baseURL()
	if base == "" {
		return fmt.Errorf("%s %s: %s is not running", method, path, u.Node.Label)
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if u.Token != "" {
		req.Header.Set("Authorization", "Bearer "+u.Token)
	}
	resp, err := u.Node.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", method, path, u.Node.Label, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s %s on %s: reading answer: %w", method, path, u.Node.Label, err)
	}
	if resp.StatusCode != http.StatusOK {
		return &HTTPError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s on %s: decoding answer: %w", method, path, u.Node.Label, err)
	}
	return nil
}

func roomPath(roomID string, rest ...string) string {
	p := "/_matrix/client/v3/rooms/" + url.PathEscape(roomID)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}

// CreateRoom creates a room from a createRoom body and returns its ID.
func (u *User) CreateRoom(body map[string]any) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	if err := u.call("POST", "/_matrix/client/v3/createRoom", body, &out); err != nil {
		return "", err
	}
	return out.RoomID, nil
}

// Join joins a room by ID or alias through the given servers and returns
// the room ID.
func (u *User) Join(roomIDOrAlias string, via ...string) (string, error) {
	q := url.Values{}
	for _, v := range via {
		q.Add("via", v)
	}
	var out struct {
		RoomID string `json:"room_id"`
	}
	path := "/_matrix/client/v3/join/" + url.PathEscape(roomIDOrAlias) + "?" + q.Encode()
	if err := u.call("POST", path, map[string]any{}, &out); err != nil {
		return "", err
	}
	return out.RoomID, nil
}

// NextTxn returns a transaction ID the user has not used before.
func (u *User) NextTxn() string { return "t" + strconv.FormatInt(u.txn.Add(1), 10) }

// Send sends a text message with a fresh transaction ID and returns its
// event ID.
func (u *User) Send(roomID, body string) (string, error) {
	return u.SendTxn(roomID, u.NextTxn(), body)
}

// SendTxn sends a text message with the given transaction ID; sending the
// same ID again must return the same event ID.
func (u *User) SendTxn(roomID, txnID, body string) (string, error) {
	var out struct {
		EventID string `json:"event_id"`
	}
	err := u.call("PUT", roomPath(roomID, "send", "m.room.message", txnID), map[string]any{"msgtype": "m.text", "body": body}, &out)
	if err == nil && out.EventID == "" {
		err = errors.New("send: no event_id")
	}
	return out.EventID, err
}

// SetState sets a state event and returns its event ID.
func (u *User) SetState(roomID, typ, stateKey string, content map[string]any) (string, error) {
	var out struct {
		EventID string `json:"event_id"`
	}
	err := u.call("PUT", roomPath(roomID, "state", typ, stateKey), content, &out)
	return out.EventID, err
}
