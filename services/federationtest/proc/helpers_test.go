package proc

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func register(t *testing.T, nd *Node, localpart string) *User {
	t.Helper()
	u, err := nd.Register(localpart)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// waitFor polls check every pollEvery until it returns nil and returns
// how long that took; after limit it fails the test with check's last
// error. It measures, it does not assert a speed.
func waitFor(t *testing.T, limit time.Duration, what string, check func() error) time.Duration {
	t.Helper()
	const pollEvery = 200 * time.Millisecond
	start := time.Now()
	for {
		err := check()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s: not reached within %v: %v", what, limit, err)
		}
		time.Sleep(pollEvery)
	}
}

// joinedEverywhere checks that every user's server sees all of them
// joined to the room.
func joinedEverywhere(room string, users ...*User) error {
	for _, u := range users {
		evs, err := u.StateEvents(room)
		if err != nil {
			return err
		}
		joined := map[string]bool{}
		for _, e := range evs {
			if e.Type == "m.room.member" && e.StateKey != nil && e.Content["membership"] == "join" {
				joined[*e.StateKey] = true
			}
		}
		for _, v := range users {
			if !joined[v.ID] {
				return fmt.Errorf("%s does not see %s joined", u.Node.Label, v.ID)
			}
		}
	}
	return nil
}

// messageIDs returns the event IDs of the m.room.message events a user's
// server holds, in timeline order.
func messageIDs(u *User, room string) ([]string, error) {
	evs, err := u.Events(room)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range evs {
		if e.Type == "m.room.message" {
			ids = append(ids, e.ID)
		}
	}
	return ids, nil
}

// sameMessages checks that the user's server holds exactly the messages
// in want, each once. The error counts what is missing, duplicated and
// unexpected, and names up to three of each.
func sameMessages(u *User, room string, want map[string]bool) error {
	ids, err := messageIDs(u, room)
	if err != nil {
		return err
	}
	seen := map[string]int{}
	for _, id := range ids {
		seen[id]++
	}
	var missing, twice, extra []string
	for id := range want {
		if seen[id] == 0 {
			missing = append(missing, id)
		}
	}
	for id, n := range seen {
		if n > 1 {
			twice = append(twice, id)
		}
		if !want[id] {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(twice)+len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("%s holds %d of %d messages: %d missing %s, %d more than once %s, %d unexpected %s",
		u.Node.Label, len(want)-len(missing), len(want), len(missing), some(missing), len(twice), some(twice), len(extra), some(extra))
}

// split tells which of ids the user's server holds and which it lacks.
func split(u *User, room string, ids []string) (held, lacking []string, err error) {
	got, err := messageIDs(u, room)
	if err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		if slices.Contains(got, id) {
			held = append(held, id)
		} else {
			lacking = append(lacking, id)
		}
	}
	return held, lacking, nil
}

// holdsAll checks that the user's server holds every message of ids.
func holdsAll(u *User, room string, ids []string) error {
	_, lacking, err := split(u, room, ids)
	if err == nil && len(lacking) > 0 {
		err = fmt.Errorf("%s lacks %d of %d: %s", u.Node.Label, len(lacking), len(ids), some(lacking))
	}
	return err
}

// none checks that the user's server holds none of the given messages.
func none(u *User, room string, ids []string) error {
	held, _, err := split(u, room, ids)
	if err == nil && len(held) > 0 {
		err = fmt.Errorf("%s already holds %d messages it cannot have received: %s", u.Node.Label, len(held), some(held))
	}
	return err
}

// sameState checks that every user's server reports the same current
// state, and returns it.
func sameState(room string, users ...*User) (map[string]string, error) {
	var first map[string]string
	for i, u := range users {
		st, err := u.State(room)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = st
			continue
		}
		if !maps.Equal(first, st) {
			return nil, fmt.Errorf("state differs between %s and %s: %s", users[0].Node.Label, u.Node.Label, stateDiff(first, st))
		}
	}
	return first, nil
}

func stateDiff(a, b map[string]string) string {
	var d []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if a[k] != b[k] {
			d = append(d, fmt.Sprintf("%s: %q vs %q", k, a[k], b[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: absent vs %q", k, b[k]))
		}
	}
	return strings.Join(d, "; ")
}

// converged checks that every user's server holds exactly want and that
// all report the same state.
func converged(room string, want map[string]bool, users ...*User) error {
	for _, u := range users {
		if err := sameMessages(u, room, want); err != nil {
			return err
		}
	}
	_, err := sameState(room, users...)
	return err
}

func some(ids []string) string {
	slices.Sort(ids)
	if len(ids) > 3 {
		return fmt.Sprint(ids[:3], "…")
	}
	return fmt.Sprint(ids)
}

// writer sends n messages as u in the background, remembering every
// acknowledged event ID.
type writer struct {
	u    *User
	ids  []string
	err  error
	done sync.WaitGroup
}

func write(u *User, room string, n int, label string) *writer {
	w := &writer{u: u}
	w.done.Add(1)
	go func() {
		defer w.done.Done()
		for i := range n {
			id, err := u.Send(room, fmt.Sprintf("%s %d", label, i))
			if err != nil {
				w.err = fmt.Errorf("%s message %d: %w", label, i, err)
				return
			}
			w.ids = append(w.ids, id)
		}
	}()
	return w
}

// wait waits for the writer and fails the test if a send failed.
func (w *writer) wait(t *testing.T) []string {
	t.Helper()
	w.done.Wait()
	if w.err != nil {
		t.Fatal(w.err)
	}
	return w.ids
}

func addAll(set map[string]bool, ids []string) {
	for _, id := range ids {
		set[id] = true
	}
}
