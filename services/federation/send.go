package federation

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/pdu"
	"hearth/services/roomserver"
	"hearth/services/storage"
)

// The spec's limits on one transaction.
const (
	maxTxnPDUs = 50
	maxTxnEDUs = 100
)

// transaction is the body of PUT /send/{txnId}.
type transaction struct {
	Origin         string            `json:"origin"`
	OriginServerTS int64             `json:"origin_server_ts"`
	PDUs           []json.RawMessage `json:"pdus"`
	EDUs           []json.RawMessage `json:"edus"`
}

// pduResult is one entry of the answer's "pdus" map.
type pduResult struct {
	Error string `json:"error,omitempty"`
}

func keyInboundTxn(origin, txnID string) []byte {
	return storage.Key(storage.PrefixFedInboundTxn, []byte(origin), []byte{0}, []byte(txnID))
}

// parseTransaction decodes and checks a transaction body.
func parseTransaction(body []byte) (transaction, error) {
	var t transaction
	if _, err := cjson.Decode(body); err != nil && !errors.Is(err, cjson.ErrBadJSON) {
		return t, errf(http.StatusBadRequest, "M_NOT_JSON", "the body is not JSON")
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return t, errBadJSON("bad transaction: %v", err)
	}
	if len(t.PDUs) > maxTxnPDUs || len(t.EDUs) > maxTxnEDUs {
		return t, errBadJSON("a transaction holds at most %d PDUs and %d EDUs", maxTxnPDUs, maxTxnEDUs)
	}
	return t, nil
}

func (s *Server) handleSend(w http.ResponseWriter, r *request) error {
	txnID := r.PathValue("txnId")
	if txnID == "" || len(txnID) > 255 {
		return errInvalidParam("bad transaction ID")
	}
	t, err := parseTransaction(r.body)
	if err != nil {
		return err
	}
	if t.Origin != r.origin {
		return errForbidden("the transaction's origin is not the server that signed the request")
	}
	// One transaction at a time per origin, so a retry waits for the
	// first attempt and then gets its stored answer.
	mu := s.originLock(r.origin)
	mu.Lock()
	defer mu.Unlock()
	key := keyInboundTxn(r.origin, txnID)
	if prev, err := s.o.DB.Get(key); err == nil {
		writeRaw(w, http.StatusOK, prev)
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	results := s.processPDUs(r.Context(), r.origin, t.PDUs)
	s.processEDUs(r.Context(), r.origin, t.EDUs)
	resp, err := json.Marshal(map[string]any{"pdus": results})
	if err != nil {
		return err
	}
	// The answer goes out before the deduplication record is stored: the
	// events themselves are already durable, and a retry that finds no
	// record (after a crash) only finds them known. A retry waits for the
	// record through the origin's lock.
	writeRaw(w, http.StatusOK, resp)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if err := s.o.DB.Update(func(txn *badger.Txn) error { return txn.Set(key, resp) }); err != nil {
		s.log.Error("storing a transaction's answer failed", "origin", r.origin, "txn", txnID, "err", err)
	}
	return nil
}

func (s *Server) originLock(origin string) *sync.Mutex {
	s.txnMu.Lock()
	defer s.txnMu.Unlock()
	mu, ok := s.originMu[origin]
	if !ok {
		if len(s.originMu) > maxBuckets {
			s.originMu = map[string]*sync.Mutex{} // old locks are only held by running requests
		}
		mu = &sync.Mutex{}
		s.originMu[origin] = mu
	}
	return mu
}

// processPDUs runs each PDU through verification and the room server.
// PDUs that cannot even be identified (no room we know, unparseable) are
// dropped; the others get an entry, with an error when not accepted. Runs
// of events that extend a room's timeline one after another commit
// together (roomserver.ReceiveChain); the others go one by one.
func (s *Server) processPDUs(ctx context.Context, origin string, raws []json.RawMessage) map[string]pduResult {
	results := map[string]pduResult{}
	type item struct {
		ev  *pdu.Event
		ver *pdu.RoomVersion
	}
	var verified []item
	for _, raw := range raws {
		if len(raw) > MaxPDUBytes {
			s.log.Info("dropping an oversized PDU", "origin", origin, "bytes", len(raw))
			continue
		}
		obj, err := cjson.DecodeObject(raw)
		if err != nil {
			s.log.Info("dropping a PDU that is not canonical JSON", "origin", origin, "err", err)
			continue
		}
		roomID, _ := obj.Get("room_id").Str()
		ver, err := s.o.Rooms.Version(ctx, roomID)
		if err != nil {
			s.log.Debug("dropping a PDU of a room we are not in", "origin", origin, "room", roomID)
			continue
		}
		ev, err := pdu.Parse(ver, raw)
		if err != nil {
			s.log.Info("dropping a malformed PDU", "origin", origin, "room", roomID, "err", err)
			continue
		}
		id := ev.ID()
		if err := s.checkACL(ctx, roomID, origin); err != nil {
			results[id] = pduResult{Error: "denied by the room's server ACL"}
			continue
		}
		ev, err = s.verifyPDU(ctx, ver, raw)
		if err != nil {
			results[id] = pduResult{Error: "signature check failed: " + err.Error()}
			continue
		}
		verified = append(verified, item{ev, ver})
	}
	record := func(id string, got roomserver.Received, err error) {
		switch {
		case err != nil:
			s.log.Info("PDU not processed", "origin", origin, "event", id, "err", err)
			results[id] = pduResult{Error: err.Error()}
		case got.Outcome == roomserver.Rejected:
			results[id] = pduResult{Error: "rejected: " + got.Reason}
		default:
			results[id] = pduResult{}
		}
	}
	for i := 0; i < len(verified); {
		j := i + 1
		for j < len(verified) && verified[j].ev.RoomID() == verified[i].ev.RoomID() {
			j++
		}
		run := make([]*pdu.Event, 0, j-i)
		for _, it := range verified[i:j] {
			run = append(run, it.ev)
		}
		got, err := s.o.Rooms.ReceiveChain(ctx, run)
		if err != nil {
			s.log.Info("receiving a run of PDUs failed", "origin", origin, "err", err)
			got = nil
		}
		for k, g := range got {
			record(run[k].ID(), g, nil)
		}
		i += len(got)
		if i < j {
			// The next event needs the full pipeline.
			ev := verified[i].ev
			g, err := s.o.Rooms.Receive(ctx, ev, s.fetcherFor(origin, verified[i].ver))
			record(ev.ID(), g, err)
			i++
		}
	}
	return results
}
