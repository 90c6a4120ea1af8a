package proc

import (
	"fmt"
	"net/url"
)

// Event is a client-format event as /messages and /state return it.
type Event struct {
	ID       string         `json:"event_id"`
	Type     string         `json:"type"`
	Sender   string         `json:"sender"`
	StateKey *string        `json:"state_key"`
	Content  map[string]any `json:"content"`
}

// maxPages bounds a backward pagination: 100 events a page.
const maxPages = 1000

// Events pages the room's timeline backwards with /messages until the
// server has no more, and returns the events oldest first.
func (u *User) Events(roomID string) ([]Event, error) {
	var rev []Event
	from := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("messages of %s on %s: more than %d pages", roomID, u.Node.Label, maxPages)
		}
		q := url.Values{"dir": {"b"}, "limit": {"100"}}
		if from != "" {
			q.Set("from", from)
		}
		var out struct {
			Chunk []Event `json:"chunk"`
			End   string  `json:"end"`
		}
		if err := u.call("GET", roomPath(roomID, "messages")+"?"+q.Encode(), nil, &out); err != nil {
			return nil, err
		}
		rev = append(rev, out.Chunk...)
		if out.End == "" || len(out.Chunk) == 0 {
			break
		}
		if out.End == from {
			return nil, fmt.Errorf("messages of %s on %s: end token %q did not move", roomID, u.Node.Label, from)
		}
		from = out.End
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev, nil
}

// StateEvents returns the room's current state events (GET /state).
func (u *User) StateEvents(roomID string) ([]Event, error) {
	var evs []Event
	if err := u.call("GET", roomPath(roomID, "state"), nil, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// State returns the room's current state as "type|state_key" → event ID,
// the form to compare between servers.
func (u *User) State(roomID string) (map[string]string, error) {
	evs, err := u.StateEvents(roomID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(evs))
	for _, e := range evs {
		if e.StateKey == nil {
			return nil, fmt.Errorf("state of %s on %s: %s has no state_key", roomID, u.Node.Label, e.ID)
		}
		out[e.Type+"|"+*e.StateKey] = e.ID
	}
	return out, nil
}
