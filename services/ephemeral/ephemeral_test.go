package ephemeral

import (
	"context"
	"fmt"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
	"hearth/services/storage"
)

type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestTyping(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	var mu gosync.Mutex
	var woken []string
	ty := NewTyping(c.now, func(r string) {
		mu.Lock()
		woken = append(woken, r)
		mu.Unlock()
	})
	defer ty.Close()
	p0 := ty.Position()
	if p0 == 0 {
		t.Fatal("typing positions must start at the clock")
	}
	ty.Set("!a:x", "@alice:x", true, 10*time.Second)
	ty.Set("!a:x", "@bob:x", true, 0) // default 30 s
	ty.Set("!b:x", "@carol:x", true, time.Hour)
	if got := ty.Typing("!a:x"); !slices.Equal(got, []string{"@alice:x", "@bob:x"}) {
		t.Fatalf("typing in a: %v", got)
	}
	p1 := ty.Position()
	if p1 != p0+3 {
		t.Fatalf("position %d, want %d", p1, p0+3)
	}
	ty.Set("!a:x", "@alice:x", true, 10*time.Second) // renewal: no change
	if ty.Position() != p1 {
		t.Fatal("a renewal moved the position")
	}
	rooms, pos := ty.Since(p0 + 2)
	if !slices.Equal(rooms, []string{"!b:x"}) || pos != p1 {
		t.Fatalf("Since: %v %d", rooms, pos)
	}

	// Alice times out after 10 s, bob after 30 s, carol at 120 s (capped).
	c.add(11 * time.Second)
	ty.Sweep()
	if got := ty.Typing("!a:x"); !slices.Equal(got, []string{"@bob:x"}) {
		t.Fatalf("after alice's timeout: %v", got)
	}
	if ty.Position() != p1+1 {
		t.Fatalf("expiry did not move the position")
	}
	c.add(100 * time.Second)
	ty.Sweep()
	if got := ty.Typing("!b:x"); !slices.Equal(got, []string{"@carol:x"}) {
		t.Fatalf("carol at 111 s: %v", got)
	}
	c.add(10 * time.Second)
	if got := ty.Typing("!b:x"); len(got) != 0 {
		t.Fatalf("carol past the 120 s cap: %v", got)
	}

	// Stop: a change; stopping again is not.
	ty.Set("!c:x", "@dave:x", true, time.Minute)
	p2 := ty.Position()
	ty.Set("!c:x", "@dave:x", false, 0)
	ty.Set("!c:x", "@dave:x", false, 0)
	if ty.Position() != p2+1 {
		t.Fatalf("stop: position %d, want %d", ty.Position(), p2+1)
	}
	ch, _ := ty.changes([]string{"!a:x", "!b:x", "!c:x"}, p2)
	if got, ok := ch["!c:x"]; !ok || len(got) != 0 || len(ch) != 1 {
		t.Fatalf("changes after stop: %v", ch)
	}
	// From 0 (initial sync) only rooms where someone types.
	ty.Set("!a:x", "@erin:x", true, time.Minute)
	ch, _ = ty.changes([]string{"!a:x", "!b:x", "!c:x"}, 0)
	if len(ch) != 1 || !slices.Equal(ch["!a:x"], []string{"@erin:x"}) {
		t.Fatalf("changes from 0: %v", ch)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(woken, "!a:x") || !slices.Contains(woken, "!b:x") || !slices.Contains(woken, "!c:x") {
		t.Fatalf("woken: %v", woken)
	}
}

func TestTypingTimerWakes(t *testing.T) {
	woke := make(chan string, 4)
	ty := NewTyping(nil, func(r string) { woke <- r })
	defer ty.Close()
	ty.Set("!a:x", "@alice:x", true, 50*time.Millisecond)
	<-woke // the start
	select {
	case r := <-woke:
		if r != "!a:x" || len(ty.Typing("!a:x")) != 0 {
			t.Fatalf("woken for %s, typing %v", r, ty.Typing("!a:x"))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the timeout did not wake the room")
	}
}

func TestTypingBounds(t *testing.T) {
	ty := NewTyping(nil, nil)
	defer ty.Close()
	for i := range maxTypersPerRoom + 10 {
		ty.Set("!a:x", fmt.Sprintf("@u%d:x", i), true, time.Minute)
	}
	if n := len(ty.Typing("!a:x")); n != maxTypersPerRoom {
		t.Fatalf("%d typers", n)
	}
}

func openDB(t *testing.T, dir string) *storage.DB {
	t.Helper()
	db, err := storage.Open(context.Background(), storage.Options{Dir: dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func TestReceipts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openDB(t, dir)
	r, err := NewReceipts(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Put(ctx, "!a:x", "m.fully_read", "@bob:x", "$e1", "", 1); err == nil {
		t.Fatal("unknown type accepted")
	}
	for _, bad := range [][4]string{{"a", "@bob:x", "$e", ""}, {"!a:x", "bob", "$e", ""}, {"!a:x", "@bob:x", "e", ""}, {"!a:x", "@bob:x", "$e", "thread"}, {"!a\x00:x", "@bob:x", "$e", ""}} {
		if _, err := r.Put(ctx, bad[0], Read, bad[1], bad[2], bad[3], 1); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	p1, err := r.Put(ctx, "!a:x", Read, "@bob:x", "$e1", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := r.Put(ctx, "!a:x", ReadPrivate, "@bob:x", "$e2", "", 101)
	p3, _ := r.Put(ctx, "!a:x", Read, "@bob:x", "$e3", "$root", 102)
	p4, _ := r.Put(ctx, "!b:x", Read, "@carol:x", "$f1", "main", 103)
	if !(p1 < p2 && p2 < p3 && p3 < p4) || r.Position() != p4 {
		t.Fatalf("positions %d %d %d %d head %d", p1, p2, p3, p4, r.Position())
	}

	// Alice sees bob's public receipts only; bob also his private one.
	got, pos, err := r.Since(ctx, "@alice:x", []string{"!a:x", "!b:x"}, 0)
	if err != nil || pos != p4 {
		t.Fatal(err, pos)
	}
	want := `map[!a:x:map[:map[$e1:map[m.read:map[@bob:x:map[ts:100]]]] $root:map[$e3:map[m.read:map[@bob:x:map[thread_id:$root ts:102]]]]] !b:x:map[main:map[$f1:map[m.read:map[@carol:x:map[thread_id:main ts:103]]]]]]`
	if fmt.Sprint(got) != want {
		t.Errorf("alice sees\n%v\nwant\n%v", got, want)
	}
	got, _, _ = r.Since(ctx, "@bob:x", []string{"!a:x"}, 0)
	if fmt.Sprint(got["!a:x"][""]["$e2"]) != "map[m.read.private:map[@bob:x:map[ts:101]]]" {
		t.Errorf("bob's private receipt: %v", got)
	}
	// Incremental: only newer ones, only the rooms asked for.
	got, _, _ = r.Since(ctx, "@alice:x", []string{"!a:x"}, p2)
	if fmt.Sprint(got) != "map[!a:x:map[$root:map[$e3:map[m.read:map[@bob:x:map[thread_id:$root ts:102]]]]]]" {
		t.Errorf("since p2: %v", got)
	}
	got, pos, _ = r.Since(ctx, "@alice:x", []string{"!a:x"}, p4)
	if len(got) != 0 || pos != p4 {
		t.Errorf("since head: %v %d", got, pos)
	}

	// Moving back to an older event replaces the receipt (the spec keeps
	// one event per user, type and thread); the old stream entry goes.
	p5, _ := r.Put(ctx, "!a:x", Read, "@bob:x", "$e0", "", 104)
	got, _, _ = r.Since(ctx, "@alice:x", []string{"!a:x"}, p4)
	if fmt.Sprint(got) != "map[!a:x:map[:map[$e0:map[m.read:map[@bob:x:map[ts:104]]]]]]" {
		t.Errorf("after moving back: %v", got)
	}
	if rc, ok, _ := r.Get("!a:x", Read, "@bob:x", ""); !ok || rc.EventID != "$e0" || rc.Pos != p5 {
		t.Errorf("Get: %+v %v", rc, ok)
	}
	n := 0
	db.View(func(txn *badgerTxn) error {
		n = countPrefix(txn, byte(storage.PrefixReceiptStream))
		return nil
	})
	if n != 4 {
		t.Errorf("%d stream entries, want one per receipt (4)", n)
	}

	// Positions survive a restart; a token from the future counts as 0.
	db.Close()
	db = openDB(t, dir)
	defer db.Close()
	r, err = NewReceipts(db)
	if err != nil || r.Position() != p5 {
		t.Fatalf("reopened: %v head %d want %d", err, r.Position(), p5)
	}
	got, _, _ = r.Since(ctx, "@alice:x", []string{"!b:x"}, p5+100)
	if len(got["!b:x"]) != 1 {
		t.Errorf("from the future: %v", got)
	}
}

func TestServiceEphemeral(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, t.TempDir())
	defer db.Close()
	var mu gosync.Mutex
	var wakes []string
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	s, err := New(db, Options{Now: c.now, Wake: func(room, user string) {
		mu.Lock()
		wakes = append(wakes, room+"/"+user)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rooms := []string{"!a:x"}
	_, t0, r0, _ := s.Ephemeral(ctx, "@alice:x", rooms, 0, 0)
	s.SetTyping("!a:x", "@bob:x", true, time.Minute)
	if _, err := s.PutReceipt(ctx, "!a:x", Read, "@bob:x", "$e1", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutReceipt(ctx, "!a:x", ReadPrivate, "@bob:x", "$e1", ""); err != nil {
		t.Fatal(err)
	}
	evs, t1, r1, err := s.Ephemeral(ctx, "@alice:x", rooms, t0, r0)
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"content":{"user_ids":["@bob:x"]},"type":"m.typing"} {"content":{"$e1":{"m.read":{"@bob:x":{"ts":1700000000000}}}},"type":"m.receipt"}]`
	if got := encode(evs["!a:x"]); got != want {
		t.Errorf("events\n%s\nwant\n%s", got, want)
	}
	evs, _, _, _ = s.Ephemeral(ctx, "@alice:x", rooms, t1, r1)
	if len(evs) != 0 {
		t.Errorf("nothing new: %v", evs)
	}
	mu.Lock()
	if !slices.Equal(wakes, []string{"!a:x/", "!a:x/", "!a:x/@bob:x"}) {
		t.Errorf("wakes %v", wakes)
	}
	mu.Unlock()
}

func encode(evs []cjson.Value) string {
	s := "["
	for i, ev := range evs {
		if i > 0 {
			s += " "
		}
		s += string(cjson.Encode(ev))
	}
	return s + "]"
}
