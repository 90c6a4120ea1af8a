package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// syncData is the initial-sync data set: accounts, rooms, and the user
// (Users[0]) who is a member of every room.
type syncData struct {
	Users []User   `json:"users"`
	Rooms []string `json:"rooms"`
}

// Element Web's filter: lazy-loaded members, 20 timeline events; and the
// same with full member state.
const (
	elementFilter    = `{"room":{"state":{"lazy_load_members":true},"timeline":{"limit":20}}}`
	fullStateFilter  = `{"room":{"timeline":{"limit":20}}}`
	initialSyncReps  = 3
	initialSyncLimit = 5 * time.Minute
)

// syncDataset creates (or reuses) the SBRC-shaped data set: max(users,
// members) accounts, rooms of members accounts each, the first account in
// every room, a few messages per room.
func (e *env) syncDataset(ctx context.Context) (*syncData, error) {
	p := e.p
	key := p.datasetKey(e.srv.URL)
	var d syncData
	if e.ds.load(ctx, "sync", key, &d) {
		return &d, nil
	}
	start := time.Now()
	defer func() { e.run.Add("initial_sync", "dataset_create", time.Since(start).Seconds(), "s", "lower") }()
	n := max(p.DatasetUsers, p.DatasetMembers)
	members := min(p.DatasetMembers, n)
	pfx := prefix("s")
	users, err := e.ds.register(ctx, "sync data set: users", pfx, n)
	if err != nil {
		return nil, err
	}
	rooms, err := e.ds.createRooms(ctx, "sync data set: rooms", users[:1], p.DatasetRooms)
	if err != nil {
		return nil, err
	}
	var ms []membership
	for r, room := range rooms {
		for j := 1; j < members; j++ {
			ms = append(ms, membership{User: users[(r+j)%n], Room: room})
		}
	}
	// Joins go room by room in the order above; interleave them so that
	// concurrent joins land in different rooms.
	ms = interleave(ms, members-1)
	if err := e.ds.join(ctx, "sync data set: joins", ms); err != nil {
		return nil, err
	}
	if err := e.ds.send(ctx, "sync data set: messages", users[:1], rooms, p.DatasetRooms*p.DatasetMessages); err != nil {
		return nil, err
	}
	d = syncData{Users: users, Rooms: rooms}
	return &d, e.ds.save("sync", key, users[0], d)
}

// interleave reorders groups of size k (a[0:k], a[k:2k], ...) so that
// consecutive items come from different groups.
func interleave(a []membership, k int) []membership {
	if k <= 1 {
		return a
	}
	groups := (len(a) + k - 1) / k
	out := make([]membership, 0, len(a))
	for j := 0; j < k; j++ {
		for g := 0; g < groups; g++ {
			if i := g*k + j; i < len(a) {
				out = append(out, a[i])
			}
		}
	}
	return out
}

// initialSync loads the data set, reads the loaded idle figures, then
// times the measured user's initial /sync with both filters.
func (e *env) initialSync(ctx context.Context) error {
	d, err := e.syncDataset(ctx)
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}
	// The federation room is made meanwhile on a server of its own; it
	// must be done before the quiet of the idle figure.
	e.waitFederation()
	if e.want("idle") {
		e.idleLoaded(ctx)
	}
	u := d.Users[0]
	for _, f := range []struct{ name, filter string }{{"element_lazy", elementFilter}, {"full_members", fullStateFilter}} {
		var times []float64
		size := 0
		for i := 0; i < initialSyncReps; i++ {
			cctx, cancel := context.WithTimeout(ctx, initialSyncLimit)
			t0 := time.Now()
			resp, n, err := e.c.Sync(cctx, u, f.filter, "", 0)
			cancel()
			if err != nil {
				return fmt.Errorf("initial sync %s: %w", f.name, err)
			}
			times = append(times, time.Since(t0).Seconds())
			size = n
			if got := len(resp.Rooms.Join); got != len(d.Rooms) {
				return fmt.Errorf("initial sync %s: %d joined rooms, want %d", f.name, got, len(d.Rooms))
			}
		}
		first := times[0]
		slices.Sort(times)
		e.run.Add("initial_sync", f.name+"_first", first, "s", "lower")
		e.run.Add("initial_sync", f.name+"_median", times[len(times)/2], "s", "lower")
		e.run.Add("initial_sync", f.name+"_size", float64(size)/mib, "MiB", "lower")
	}
	return nil
}
