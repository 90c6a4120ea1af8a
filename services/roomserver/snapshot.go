package roomserver

import (
	"encoding/binary"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/pdu"
	"hearth/services/storage"
)

// State snapshots record the room state before and after every event that
// has a place in the DAG, so that the state at any event can be read back
// (for the auth checks of a remote event whose parents are not the latest
// events, for /state and /state_ids, and for resolving forks).
//
// A snapshot maps (type, state_key) to an event NID. It is stored either in
// full or as a delta over a parent snapshot; a delta chain never grows past
// maxSnapshotChain links, after which the next snapshot is written in full,
// so reading one costs at most that many reads and the amortised write cost
// of a state change stays small even in rooms with thousands of members.
// Full snapshots are split into parts of snapshotPartEntries entries.
//
// Keys: PrefixStateSnapshot + snapshot NID + part number (4 bytes).
// PrefixStateAt + event NID → snapshot NID before, snapshot NID after.

const (
	maxSnapshotChain    = 64
	snapshotPartEntries = 4096
)

const (
	snapFull  = 0
	snapDelta = 1
)

// snapshot is a decoded snapshot: the full mapping, and how it is stored.
type snapshot map[pdu.TypeKey]uint64

func keySnapshot(nid uint64, part uint32) []byte {
	var p [4]byte
	binary.BigEndian.PutUint32(p[:], part)
	return storage.Key(storage.PrefixStateSnapshot, u64(nid), p[:])
}

func keySnapshotPrefix(nid uint64) []byte { return storage.Key(storage.PrefixStateSnapshot, u64(nid)) }

func keyStateAt(eventNID uint64) []byte { return storage.Key(storage.PrefixStateAt, u64(eventNID)) }

// snapHeader is the first part's header: kind, parent, chain depth.
type snapHeader struct {
	kind   byte
	parent uint64
	depth  uint64
}

func encodeSnapPart(h *snapHeader, entries []snapEntry) []byte {
	b := make([]byte, 0, 16+len(entries)*48)
	if h != nil {
		b = append(b, h.kind)
		b = binary.AppendUvarint(b, h.parent)
		b = binary.AppendUvarint(b, h.depth)
	}
	b = binary.AppendUvarint(b, uint64(len(entries)))
	for _, e := range entries {
		b = binary.AppendUvarint(b, uint64(len(e.key.Type)))
		b = append(b, e.key.Type...)
		b = binary.AppendUvarint(b, uint64(len(e.key.StateKey)))
		b = append(b, e.key.StateKey...)
		b = binary.AppendUvarint(b, e.nid)
	}
	return b
}

type snapEntry struct {
	key pdu.TypeKey
	nid uint64 // 0: the key is removed (deltas only)
}

var errCorruptSnapshot = errors.New("roomserver: corrupt state snapshot")

func decodeSnapPart(b []byte, withHeader bool, fn func(snapEntry)) (snapHeader, error) {
	var h snapHeader
	rd := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	str := func() (string, bool) {
		l, ok := rd()
		if !ok || l > uint64(len(b)) {
			return "", false
		}
		s := string(b[:l])
		b = b[l:]
		return s, true
	}
	if withHeader {
		if len(b) < 1 {
			return h, errCorruptSnapshot
		}
		h.kind, b = b[0], b[1:]
		var ok1, ok2 bool
		h.parent, ok1 = rd()
		h.depth, ok2 = rd()
		if !ok1 || !ok2 {
			return h, errCorruptSnapshot
		}
	}
	n, ok := rd()
	if !ok {
		return h, errCorruptSnapshot
	}
	for i := uint64(0); i < n; i++ {
		t, ok1 := str()
		sk, ok2 := str()
		nid, ok3 := rd()
		if !ok1 || !ok2 || !ok3 {
			return h, errCorruptSnapshot
		}
		fn(snapEntry{pdu.TypeKey{Type: t, StateKey: sk}, nid})
	}
	if len(b) != 0 {
		return h, errCorruptSnapshot
	}
	return h, nil
}

// readSnapshotTxn reads a snapshot in full, following its delta chain.
func readSnapshotTxn(txn *badger.Txn, nid uint64) (snapshot, error) {
	if nid == 0 {
		return snapshot{}, nil
	}
	var chain [][]snapEntry // deltas, newest first
	for hops := 0; ; hops++ {
		if hops > maxSnapshotChain+1 {
			return nil, fmt.Errorf("%w: chain at %d too long", errCorruptSnapshot, nid)
		}
		h, entries, err := readSnapParts(txn, nid)
		if err != nil {
			return nil, err
		}
		if h.kind == snapFull {
			out := make(snapshot, len(entries))
			for _, e := range entries {
				out[e.key] = e.nid
			}
			for i := len(chain) - 1; i >= 0; i-- {
				for _, e := range chain[i] {
					if e.nid == 0 {
						delete(out, e.key)
					} else {
						out[e.key] = e.nid
					}
				}
			}
			return out, nil
		}
		chain = append(chain, entries)
		nid = h.parent
	}
}

func readSnapParts(txn *badger.Txn, nid uint64) (snapHeader, []snapEntry, error) {
	var h snapHeader
	var entries []snapEntry
	prefix := keySnapshotPrefix(nid)
	it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: prefix})
	defer it.Close()
	parts := 0
	for it.Rewind(); it.Valid(); it.Next() {
		first := parts == 0
		err := it.Item().Value(func(b []byte) error {
			hh, err := decodeSnapPart(b, first, func(e snapEntry) { entries = append(entries, e) })
			if first {
				h = hh
			}
			return err
		})
		if err != nil {
			return h, nil, fmt.Errorf("snapshot %d: %w", nid, err)
		}
		parts++
	}
	if parts == 0 {
		return h, nil, fmt.Errorf("%w: snapshot %d missing", errCorruptSnapshot, nid)
	}
	return h, entries, nil
}

// snapshotDepthTxn reads only the chain depth of a snapshot.
func snapshotDepthTxn(txn *badger.Txn, nid uint64) (uint64, error) {
	it, err := txn.Get(keySnapshot(nid, 0))
	if err != nil {
		return 0, fmt.Errorf("snapshot %d: %w", nid, err)
	}
	var h snapHeader
	err = it.Value(func(b []byte) error {
		var err error
		h, err = decodeSnapPart(b, true, func(snapEntry) {})
		return err
	})
	return h.depth, err
}

// allocSnapshotNID reserves a snapshot number. Numbers are not kept in a
// counter (two rooms committing at once could store it out of order): at
// start the server continues after the highest stored snapshot, and a number
// whose transaction failed is simply reused.
func (s *Server) allocSnapshotNID(*badger.Txn) (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nextSnap
	s.nextSnap++
	return n, nil
}

// lastSnapshotNID finds the highest stored snapshot number.
func lastSnapshotNID(db *storage.DB) (uint64, error) {
	var last uint64
	err := db.View(func(txn *badger.Txn) error {
		p := byte(storage.PrefixStateSnapshot)
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: []byte{p}})
		defer it.Close()
		it.Seek([]byte{p + 1})
		if it.Valid() {
			k := it.Item().Key()
			if len(k) != 1+8+4 {
				return fmt.Errorf("roomserver: malformed snapshot key %x", k)
			}
			last = binary.BigEndian.Uint64(k[1:9])
		}
		return nil
	})
	return last, err
}

// writeDeltaTxn stores the snapshot parent + changes and returns its NID.
// When the parent's chain is already maxSnapshotChain long, or there is no
// parent, the snapshot is written in full. No changes: the parent is the
// answer.
func (s *Server) writeDeltaTxn(txn *badger.Txn, parent uint64, changes []snapEntry) (uint64, error) {
	if parent != 0 && len(changes) == 0 {
		return parent, nil
	}
	depth := uint64(0)
	if parent != 0 {
		d, err := snapshotDepthTxn(txn, parent)
		if err != nil {
			return 0, err
		}
		depth = d + 1
	}
	if parent == 0 || depth > maxSnapshotChain || len(changes) > snapshotPartEntries {
		full := snapshot{}
		if parent != 0 {
			var err error
			if full, err = readSnapshotTxn(txn, parent); err != nil {
				return 0, err
			}
		}
		for _, c := range changes {
			if c.nid == 0 {
				delete(full, c.key)
			} else {
				full[c.key] = c.nid
			}
		}
		return s.writeFullTxn(txn, full)
	}
	nid, err := s.allocSnapshotNID(txn)
	if err != nil {
		return 0, err
	}
	h := &snapHeader{kind: snapDelta, parent: parent, depth: depth}
	return nid, txn.Set(keySnapshot(nid, 0), encodeSnapPart(h, changes))
}

// writeFullTxn stores a full snapshot in parts.
func (s *Server) writeFullTxn(txn *badger.Txn, full snapshot) (uint64, error) {
	nid, err := s.allocSnapshotNID(txn)
	if err != nil {
		return 0, err
	}
	entries := make([]snapEntry, 0, len(full))
	for k, v := range full {
		entries = append(entries, snapEntry{k, v})
	}
	part := uint32(0)
	for {
		n := min(len(entries), snapshotPartEntries)
		var h *snapHeader
		if part == 0 {
			h = &snapHeader{kind: snapFull}
		}
		if err := txn.Set(keySnapshot(nid, part), encodeSnapPart(h, entries[:n])); err != nil {
			return 0, err
		}
		entries = entries[n:]
		part++
		if len(entries) == 0 {
			return nid, nil
		}
	}
}

// stateAt is where an event sits in the state history.
type stateAt struct{ before, after uint64 }

func (a stateAt) encode() []byte { return append(u64(a.before), u64(a.after)...) }

func readStateAtTxn(txn *badger.Txn, eventNID uint64) (stateAt, bool, error) {
	it, err := txn.Get(keyStateAt(eventNID))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return stateAt{}, false, nil
	}
	if err != nil {
		return stateAt{}, false, err
	}
	var a stateAt
	err = it.Value(func(b []byte) error {
		if len(b) != 16 {
			return errCorruptSnapshot
		}
		a.before, a.after = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
		return nil
	})
	return a, err == nil, err
}

// snapshotOf turns a state map into a snapshot; nids maps event IDs to NIDs.
func snapshotOf(state pdu.StateMap, nids func(id string) (uint64, bool)) (snapshot, error) {
	out := make(snapshot, len(state))
	for k, ev := range state {
		n, ok := nids(ev.ID())
		if !ok {
			return nil, fmt.Errorf("roomserver: state event %s is not stored", ev.ID())
		}
		out[k] = n
	}
	return out, nil
}

// diffSnapshots lists the changes that turn a into b.
func diffSnapshots(a, b snapshot) []snapEntry {
	var out []snapEntry
	for k, v := range b {
		if a[k] != v {
			out = append(out, snapEntry{k, v})
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, snapEntry{k, 0})
		}
	}
	return out
}
