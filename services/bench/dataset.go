package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// benchPassword is the password of every account a data set creates.
const benchPassword = "hearthbench-password-1"

// datasets creates the accounts and rooms the scenarios need and keeps
// them in JSON files in dir, one per part, named by part and a key of the
// server and parameters: the next run against the same server reuses
// them (after checking that a token still works).
type datasets struct {
	dir      string
	server   string
	c        *Client
	reg      Registrar
	conc     int
	progress io.Writer
	log      *slog.Logger
}

// datasetFile is the envelope of a persisted part.
type datasetFile struct {
	Key     string          `json:"key"`
	Server  string          `json:"server"`
	Created time.Time       `json:"created"`
	Check   User            `json:"check"`
	Data    json.RawMessage `json:"data"`
}

func (d *datasets) path(part, key string) string {
	return filepath.Join(d.dir, "dataset-"+part+"-"+key+".json")
}

// load fills v from a persisted part when there is one whose check user
// still has a working token.
func (d *datasets) load(ctx context.Context, part, key string, v any) bool {
	b, err := os.ReadFile(d.path(part, key))
	if err != nil || len(b) > maxRunFileBytes*4 {
		return false
	}
	var f datasetFile
	if err := json.Unmarshal(b, &f); err != nil || f.Key != key {
		return false
	}
	if err := d.c.WhoAmI(ctx, f.Check); err != nil {
		d.log.Info("data set not reusable", "part", part, "err", err)
		return false
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		return false
	}
	d.log.Info("reusing data set", "part", part, "file", d.path(part, key))
	return true
}

func (d *datasets) save(part, key string, check User, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b, err := json.Marshal(datasetFile{Key: key, Server: d.server, Created: time.Now(), Check: check, Data: data})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(d.path(part, key), b, 0o600)
}

// prefix returns a fresh user name prefix, so that a data set made anew
// never collides with accounts an earlier one left on the server.
func prefix(part string) string {
	var b [3]byte
	rand.Read(b[:])
	return "hb" + hex.EncodeToString(b[:]) + part
}

// parallel runs fn(i) for i in [0,n) on conc workers, showing progress;
// it stops at the first error.
func parallel(ctx context.Context, n, conc int, p *Progress, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var next atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < max(conc, 1); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				p.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// register creates n accounts named prefix-i.
func (d *datasets) register(ctx context.Context, label, pfx string, n int) ([]User, error) {
	users := make([]User, n)
	p := NewProgress(d.progress, label, n)
	defer p.Done()
	err := parallel(ctx, n, d.conc, p, func(ctx context.Context, i int) error {
		u, err := d.reg.Register(ctx, d.c, pfx+"-"+strconv.Itoa(i), benchPassword)
		users[i] = u
		return err
	})
	return users, err
}

// createRooms creates n rooms, room i by creators[i%len(creators)].
func (d *datasets) createRooms(ctx context.Context, label string, creators []User, n int) ([]string, error) {
	if len(creators) == 0 {
		return nil, errors.New("no room creators")
	}
	rooms := make([]string, n)
	p := NewProgress(d.progress, label, n)
	defer p.Done()
	err := parallel(ctx, n, d.conc, p, func(ctx context.Context, i int) error {
		id, err := d.c.CreateRoom(ctx, creators[i%len(creators)], fmt.Sprintf("bench %d", i))
		rooms[i] = id
		return err
	})
	return rooms, err
}

// membership is one join to make.
type membership struct {
	User User
	Room string
}

// join makes every membership, concurrently.
func (d *datasets) join(ctx context.Context, label string, ms []membership) error {
	p := NewProgress(d.progress, label, len(ms))
	defer p.Done()
	return parallel(ctx, len(ms), d.conc, p, func(ctx context.Context, i int) error {
		return d.c.Join(ctx, ms[i].User, ms[i].Room)
	})
}

// send sends n messages into room, by senders in turn.
func (d *datasets) send(ctx context.Context, label string, senders []User, rooms []string, n int) error {
	p := NewProgress(d.progress, label, n)
	defer p.Done()
	return parallel(ctx, n, d.conc, p, func(ctx context.Context, i int) error {
		_, err := d.c.Send(ctx, senders[i%len(senders)], rooms[i%len(rooms)], "bench message "+strconv.Itoa(i))
		return err
	})
}
