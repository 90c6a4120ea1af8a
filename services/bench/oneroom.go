package bench

import "context"

// roomData is one room and its members; Users[0] created it.
type roomData struct {
	Users []User `json:"users"`
	Room  string `json:"room"`
}

// oneRoom creates (or reuses) part: n accounts in one room, the data set
// of the latency scenario and of the federation room on server A.
func (e *env) oneRoom(ctx context.Context, ds *datasets, part string, n int) (*roomData, error) {
	key := e.p.datasetKey(ds.server)
	var d roomData
	if ds.load(ctx, part, key, &d) {
		return &d, nil
	}
	users, err := ds.register(ctx, part+": users", prefix(part[:1]), n)
	if err != nil {
		return nil, err
	}
	rooms, err := ds.createRooms(ctx, part+": room", users[:1], 1)
	if err != nil {
		return nil, err
	}
	var ms []membership
	for _, u := range users[1:] {
		ms = append(ms, membership{User: u, Room: rooms[0]})
	}
	if err := ds.join(ctx, part+": joins", ms); err != nil {
		return nil, err
	}
	d = roomData{Users: users, Room: rooms[0]}
	return &d, ds.save(part, key, users[0], d)
}
