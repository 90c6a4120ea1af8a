package bench

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// User is an account the runner created, with an access token.
type User struct {
	ID    string `json:"user_id"`
	Token string `json:"access_token"`
	Name  string `json:"username"`
}

const clientV3 = "/_matrix/client/v3"

// CreateRoom creates a public room and returns its ID.
func (c *Client) CreateRoom(ctx context.Context, u User, name string) (string, error) {
	var out struct {
		RoomID string `json:"room_id"`
	}
	body := map[string]any{"preset": "public_chat", "name": name}
	if _, err := c.Do(ctx, "POST", clientV3+"/createRoom", u.Token, body, &out); err != nil {
		return "", err
	}
	if out.RoomID == "" {
		return "", fmt.Errorf("createRoom: no room_id")
	}
	return out.RoomID, nil
}

// Join joins room (an ID or alias), through via when not empty.
func (c *Client) Join(ctx context.Context, u User, room string, via ...string) error {
	p := clientV3 + "/join/" + url.PathEscape(room)
	if len(via) > 0 {
		q := url.Values{}
		for _, v := range via {
			q.Add("server_name", v)
			q.Add("via", v)
		}
		p += "?" + q.Encode()
	}
	_, err := c.Do(ctx, "POST", p, u.Token, map[string]any{}, nil)
	return err
}

// Send sends an m.room.message with body text and returns the event ID.
func (c *Client) Send(ctx context.Context, u User, room, text string) (string, error) {
	txn := c.txnPrefix + "-" + strconv.FormatUint(c.txns.Add(1), 36)
	var out struct {
		EventID string `json:"event_id"`
	}
	p := clientV3 + "/rooms/" + url.PathEscape(room) + "/send/m.room.message/" + txn
	_, err := c.Do(ctx, "PUT", p, u.Token, map[string]any{"msgtype": "m.text", "body": text}, &out)
	return out.EventID, err
}

// SyncResponse is the part of a /sync answer the scenarios read.
type SyncResponse struct {
	NextBatch string `json:"next_batch"`
	Rooms     struct {
		Join map[string]struct {
			Timeline struct {
				Events    []Event `json:"events"`
				PrevBatch string  `json:"prev_batch"`
			} `json:"timeline"`
			State struct {
				Events []Event `json:"events"`
			} `json:"state"`
		} `json:"join"`
	} `json:"rooms"`
}

// Event is the part of an event the scenarios read.
type Event struct {
	EventID string `json:"event_id"`
	Type    string `json:"type"`
	Sender  string `json:"sender"`
	Content struct {
		Body string `json:"body"`
	} `json:"content"`
}

// Sync runs one /sync; filter is inline filter JSON or empty, since empty
// for an initial sync. It returns the answer's size in bytes.
func (c *Client) Sync(ctx context.Context, u User, filter, since string, timeoutMS int) (*SyncResponse, int, error) {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", filter)
	}
	if since != "" {
		q.Set("since", since)
	}
	q.Set("timeout", strconv.Itoa(timeoutMS))
	var out SyncResponse
	n, err := c.Do(ctx, "GET", clientV3+"/sync?"+q.Encode(), u.Token, nil, &out)
	if err != nil {
		return nil, n, err
	}
	return &out, n, nil
}

// MessagesPage is one /messages answer.
type MessagesPage struct {
	Chunk []Event `json:"chunk"`
	Start string  `json:"start"`
	End   string  `json:"end"`
}

// Messages pages room backwards from from (empty: the end of the room).
func (c *Client) Messages(ctx context.Context, u User, room, from string, limit int) (*MessagesPage, error) {
	q := url.Values{}
	q.Set("dir", "b")
	q.Set("limit", strconv.Itoa(limit))
	if from != "" {
		q.Set("from", from)
	}
	var out MessagesPage
	_, err := c.Do(ctx, "GET", clientV3+"/rooms/"+url.PathEscape(room)+"/messages?"+q.Encode(), u.Token, nil, &out)
	return &out, err
}

// Login logs in with a password and returns the new access token.
func (c *Client) Login(ctx context.Context, username, password string) (string, error) {
	var out struct {
		Token string `json:"access_token"`
	}
	body := map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": username},
		"password":   password,
	}
	if _, err := c.Do(ctx, "POST", clientV3+"/login", "", body, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("login: no access_token")
	}
	return out.Token, nil
}

// WhoAmI checks that a token is still valid.
func (c *Client) WhoAmI(ctx context.Context, u User) error {
	_, err := c.Do(ctx, "GET", clientV3+"/account/whoami", u.Token, nil, nil)
	return err
}
