package roomserver

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
)

// room is the in-memory head of a room: what the next local event needs.
// mu serialises writes to the room; readers take a snapshot under it.
type room struct {
	mu          sync.Mutex
	nid         uint64
	id          string
	ver         *pdu.RoomVersion
	state       pdu.StateMap // current state
	stateNIDs   snapshot     // current state as event NIDs
	stateSnap   uint64       // the snapshot holding the current state
	extremities []string     // forward extremities (event IDs)
	depth       int64        // greatest depth in the room

	// resetPos: see head.ResetPos.
	resetPos uint64

	// servers caches the servers with joined members for the state in
	// snapshot serversSnap.
	servers     []string
	serversSnap uint64

	// unpublished: the room is being imported by a join and is not in the
	// room index yet; the join's commit adds it.
	unpublished bool
	// stub: the room holds only local users' memberships (stub.go).
	stub bool

	// ingestMu serialises events arriving from other servers, including
	// the fetching of what they miss; mu is taken only to commit.
	ingestMu sync.Mutex
}

// head is the persisted part of a room head.
type head struct {
	RoomID      string   `json:"room_id"`
	Version     string   `json:"version"`
	Extremities []string `json:"extremities"`
	Depth       int64    `json:"depth"`
	StateSnap   uint64   `json:"state_snap,omitempty"`
	Stub        bool     `json:"stub,omitempty"` // see stub.go
	// ResetPos is the position of the last event after which state
	// resolution changed more of the current state than that event set.
	ResetPos uint64 `json:"reset_pos,omitempty"`
}

func (r *room) headBytes() []byte {
	return headBytes(r.id, r.ver, r.extremities, r.depth, r.stateSnap, r.resetPos)
}

func headBytes(roomID string, ver *pdu.RoomVersion, extremities []string, depth int64, snap, resetPos uint64) []byte {
	b, _ := json.Marshal(head{RoomID: roomID, Version: ver.ID, Extremities: extremities, Depth: depth, StateSnap: snap, ResetPos: resetPos})
	return b
}

// room returns the loaded head of a room, loading it from the store once.
func (s *Server) room(roomID string) (*room, error) {
	s.mu.Lock()
	r, ok := s.rooms[roomID]
	s.mu.Unlock()
	if ok {
		return r, nil
	}
	r, err := s.loadRoom(roomID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if existing, ok := s.rooms[roomID]; ok {
		return existing, nil
	}
	s.rooms[roomID] = r
	return r, nil
}

func (s *Server) loadRoom(roomID string) (*room, error) {
	r := &room{id: roomID, state: pdu.StateMap{}, stateNIDs: snapshot{}}
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(keyRoomByID(roomID))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		v, err := it.ValueCopy(nil)
		if err != nil || len(v) != 8 {
			return fmt.Errorf("roomserver: corrupt room index for %s", roomID)
		}
		r.nid = binary.BigEndian.Uint64(v)
		hi, err := txn.Get(keyRoomHead(r.nid))
		if err != nil {
			return fmt.Errorf("roomserver: room head of %s: %w", roomID, err)
		}
		var h head
		if err := hi.Value(func(b []byte) error { return json.Unmarshal(b, &h) }); err != nil {
			return fmt.Errorf("roomserver: room head of %s: %w", roomID, err)
		}
		ver, ok := pdu.Version(h.Version)
		if !ok {
			return fmt.Errorf("%w: %s", ErrUnsupportedVersion, h.Version)
		}
		r.ver, r.extremities, r.depth, r.stateSnap, r.stub, r.resetPos = ver, h.Extremities, h.Depth, h.StateSnap, h.Stub, h.ResetPos
		// Current state.
		prefix := keyCurrentStatePrefix(r.nid)
		sit := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: prefix})
		defer sit.Close()
		for sit.Rewind(); sit.Valid(); sit.Next() {
			var nid uint64
			if err := sit.Item().Value(func(b []byte) error {
				if len(b) != 8 {
					return errors.New("corrupt state entry")
				}
				nid = binary.BigEndian.Uint64(b)
				return nil
			}); err != nil {
				return err
			}
			ev, _, err := s.loadEventTxn(txn, nid, ver)
			if err != nil {
				return err
			}
			r.state[ev.Key()] = ev
			r.stateNIDs[ev.Key()] = nid
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if r.stateSnap == 0 && len(r.stateNIDs) > 0 && !r.stub {
		// A room stored before snapshots existed: its current state
		// becomes its first snapshot.
		err = s.db.Update(func(txn *badger.Txn) error {
			snap, err := s.writeFullTxn(txn, r.stateNIDs)
			if err != nil {
				return err
			}
			r.stateSnap = snap
			return txn.Set(keyRoomHead(r.nid), r.headBytes())
		})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// loadEventTxn reads one stored event as readers see it: redacted, with
// unsigned.redacted_because, once a redaction has been applied to it.
func (s *Server) loadEventTxn(txn *badger.Txn, nid uint64, ver *pdu.RoomVersion) (*pdu.Event, record, error) {
	ev, rec, err := s.loadRecordTxn(txn, nid, ver)
	if err != nil || rec.flags&flagRedacted == 0 {
		return ev, rec, err
	}
	var because *pdu.Event
	if rec.redactedBy != 0 {
		because, _, _ = s.loadRecordTxn(txn, rec.redactedBy, ev.Version())
	}
	return redactedForm(ev, because), rec, nil
}

// loadRecordTxn reads and parses one stored event exactly as stored.
func (s *Server) loadRecordTxn(txn *badger.Txn, nid uint64, ver *pdu.RoomVersion) (*pdu.Event, record, error) {
	it, err := txn.Get(keyEvent(nid))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, record{}, ErrNotFound
	}
	if err != nil {
		return nil, record{}, err
	}
	raw, err := it.ValueCopy(nil)
	if err != nil {
		return nil, record{}, err
	}
	rec, ok := decodeRecord(raw)
	if !ok {
		return nil, record{}, fmt.Errorf("roomserver: corrupt event record %d", nid)
	}
	if ver == nil {
		ver, err = s.versionOfNID(txn, rec.room)
		if err != nil {
			return nil, rec, err
		}
	}
	var ev *pdu.Event
	if rec.id != "" {
		ev, err = pdu.ParseStored(ver, rec.json, rec.id)
	} else {
		ev, err = pdu.Parse(ver, rec.json)
	}
	if err != nil {
		return nil, rec, fmt.Errorf("roomserver: stored event %d does not parse: %w", nid, err)
	}
	return ev, rec, nil
}

func (s *Server) versionOfNID(txn *badger.Txn, roomNID uint64) (*pdu.RoomVersion, error) {
	hi, err := txn.Get(keyRoomHead(roomNID))
	if err != nil {
		return nil, err
	}
	var h head
	if err := hi.Value(func(b []byte) error { return json.Unmarshal(b, &h) }); err != nil {
		return nil, err
	}
	v, ok := pdu.Version(h.Version)
	if !ok {
		return nil, ErrUnsupportedVersion
	}
	return v, nil
}

// allocRoomNID reserves a room number, persisting the counter in txn.
func (s *Server) allocRoomNID(txn *badger.Txn) (uint64, error) {
	s.mu.Lock()
	n := s.nextRoom
	s.nextRoom++
	s.mu.Unlock()
	return n, txn.Set(keyLastRoomNID, u64(n))
}

// joinedServers lists the servers with joined members in the current
// state, recomputed only when the state changed. The caller holds r.mu.
func (r *room) joinedServers() []string {
	if r.servers != nil && r.serversSnap == r.stateSnap && r.stateSnap != 0 {
		return r.servers
	}
	set := map[string]bool{}
	for k, ev := range r.state {
		if k.Type == "m.room.member" && ev.Membership() == "join" {
			set[pdu.Domain(k.StateKey)] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	r.servers, r.serversSnap = out, r.stateSnap
	return out
}
