package users

import (
	"context"

	"hearth/services/matrix/cjson"
)

// maxAccountDataPerSync bounds one sync's account data; the rest follows in
// the next sync (the returned position says how far this one got).
const maxAccountDataPerSync = 1000

// AccountDataEvents serves the /sync account-data stream (through
// AccountDataSource): the account data of user changed after
// position from, as {type, content} events, global ones and per room.
// Account data is unsigned client JSON and may hold floats (m.tag order), so
// content that is not canonical JSON is passed through as it was stored.
func (s *Service) AccountDataEvents(ctx context.Context, user string, from uint64) ([]cjson.Value, map[string][]cjson.Value, uint64, error) {
	items, next, err := s.AccountDataSince(user, from, maxAccountDataPerSync)
	if err != nil {
		return nil, nil, from, err
	}
	var global []cjson.Value
	rooms := map[string][]cjson.Value{}
	for _, it := range items {
		content, err := cjson.Decode(it.Content)
		if err != nil {
			if content, err = cjson.RawJSON(it.Content); err != nil {
				continue // not JSON at all: never stored by SetAccountData
			}
		}
		ev := cjson.ObjectOf(cjson.M("type", cjson.StrOf(it.Type)), cjson.M("content", content))
		if it.RoomID == "" {
			global = append(global, ev)
		} else {
			rooms[it.RoomID] = append(rooms[it.RoomID], ev)
		}
	}
	return global, rooms, max(next, from), nil
}
