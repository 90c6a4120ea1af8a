package bench

import (
	"context"
	"fmt"
	"time"
)

// paginationData is one room with PaginationEvents messages.
type paginationData struct {
	User User   `json:"user"`
	Room string `json:"room"`
}

const pageLimit = 100

func (e *env) paginationDataset(ctx context.Context) (*paginationData, error) {
	key := e.p.datasetKey(e.srv.URL)
	var d paginationData
	if e.ds.load(ctx, "pagination", key, &d) {
		return &d, nil
	}
	users, err := e.ds.register(ctx, "pagination: user", prefix("p"), 1)
	if err != nil {
		return nil, err
	}
	rooms, err := e.ds.createRooms(ctx, "pagination: room", users, 1)
	if err != nil {
		return nil, err
	}
	if err := e.ds.send(ctx, "pagination: messages", users, rooms, e.p.PaginationEvents); err != nil {
		return nil, err
	}
	d = paginationData{User: users[0], Room: rooms[0]}
	return &d, e.ds.save("pagination", key, users[0], d)
}

// pagination pages /messages backwards from the end of the room to its
// creation, pageLimit events a page.
func (e *env) pagination(ctx context.Context) error {
	d, err := e.paginationDataset(ctx)
	if err != nil {
		return fmt.Errorf("data set: %w", err)
	}
	// The end of the room: a sync limited to it gives prev_batch.
	filter := `{"room":{"rooms":["` + d.Room + `"],"timeline":{"limit":1}}}`
	r, _, err := e.c.Sync(ctx, d.User, filter, "", 0)
	if err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	from := r.Rooms.Join[d.Room].Timeline.PrevBatch
	p := NewProgress(e.opts.Progress, "pagination", e.p.PaginationEvents)
	defer p.Done()
	total, pages := 0, 0
	t0 := time.Now()
	for pages < e.p.PaginationEvents/pageLimit*2+100 {
		page, err := e.c.Messages(ctx, d.User, d.Room, from, pageLimit)
		if err != nil {
			return fmt.Errorf("messages page %d: %w", pages, err)
		}
		pages++
		total += len(page.Chunk)
		p.Add(len(page.Chunk))
		if len(page.Chunk) == 0 || page.End == "" || page.End == from {
			break
		}
		from = page.End
	}
	el := time.Since(t0)
	if total < e.p.PaginationEvents {
		return fmt.Errorf("paged %d events, want at least %d", total, e.p.PaginationEvents)
	}
	e.run.Add("pagination", "events", float64(total)/el.Seconds(), "events/s", "higher")
	e.run.Add("pagination", "page", el.Seconds()*1000/float64(pages), "ms/page", "lower")
	return nil
}
