package homeserver

import (
	"context"

	"hearth/services/matrix/cjson"
	"hearth/services/users"
)

// accountData serves the sync account-data stream from the users service.
type accountData struct{ u *users.Service }

// maxAccountDataPerSync bounds one sync's account data; the rest follows in
// the next sync (the position says how far this one got).
const maxAccountDataPerSync = 1000

func (a accountData) AccountDataSince(ctx context.Context, user string, from uint64) ([]cjson.Value, map[string][]cjson.Value, uint64, error) {
	items, next, err := a.u.AccountDataSince(user, from, maxAccountDataPerSync)
	if err != nil {
		return nil, nil, from, err
	}
	var global []cjson.Value
	rooms := map[string][]cjson.Value{}
	for _, it := range items {
		content, err := cjson.Decode(it.Content)
		if err != nil {
			continue // stored by us as JSON objects; skip anything unreadable
		}
		ev := cjson.ObjectOf(cjson.M("type", cjson.StrOf(it.Type)), cjson.M("content", content))
		if it.RoomID == "" {
			global = append(global, ev)
		} else {
			rooms[it.RoomID] = append(rooms[it.RoomID], ev)
		}
	}
	if next < from {
		next = from
	}
	return global, rooms, next, nil
}
