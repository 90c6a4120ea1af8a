package queue

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"hearth/services/matrix/cjson"
)

// httpSender is a minimal federation client for tests: PUT /send over
// real HTTP, unsigned.
type httpSender struct {
	base   string
	client *http.Client
}

func (h httpSender) SendTransaction(ctx context.Context, dest, txnID string, body []byte) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, h.base+"/_matrix/federation/v1/send/"+url.PathEscape(txnID), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	v, _ := cjson.DecodeObject(b)
	if resp.StatusCode != http.StatusOK {
		he := &HTTPError{StatusCode: resp.StatusCode, Message: v.Get("errcode").StrOr("")}
		if ms, ok := v.Get("retry_after_ms").IntValue(); ok && ms > 0 {
			he.RetryAfter = time.Duration(ms) * time.Millisecond
		}
		return nil, he
	}
	res := &Result{PDUErrors: map[string]string{}}
	for _, m := range v.Get("pdus").Members() {
		if e, ok := m.Value.Get("error").Str(); ok {
			res.PDUErrors[m.Key] = e
		}
	}
	return res, nil
}

// receiver is a remote server's /send: it checks each transaction,
// deduplicates on txn ID and records every request.
type receiver struct {
	t *testing.T

	mu     sync.Mutex
	reqs   []call            // every request, duplicates included
	byID   map[string][]byte // first body per txn ID
	answer func(n int, w http.ResponseWriter, r *http.Request) bool
	got    chan string
}

// newReceiver starts a receiver; answer, if not nil, may answer request
// number n itself (and return true) instead of the usual 200.
func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request) bool) (*receiver, *httptest.Server) {
	rc := &receiver{t: t, byID: map[string][]byte{}, got: make(chan string, 1000), answer: answer}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnID}", rc.serve)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return rc, srv
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 8<<20))
	if err != nil {
		http.Error(w, `{"errcode":"M_TOO_LARGE"}`, http.StatusRequestEntityTooLarge)
		return
	}
	txnID := r.PathValue("txnID")
	v, err := cjson.DecodeObject(body)
	if err != nil || v.Get("origin").StrOr("") != origin || v.Get("pdus").Kind() != cjson.Array {
		rc.t.Errorf("bad transaction %s: %v\n%s", txnID, err, body)
		http.Error(w, `{"errcode":"M_BAD_JSON"}`, http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	n := len(rc.reqs)
	rc.reqs = append(rc.reqs, call{"", txnID, body})
	answer := rc.answer
	rc.mu.Unlock()
	rc.got <- txnID
	if answer != nil && answer(n, w, r) {
		return
	}
	rc.mu.Lock()
	if _, dup := rc.byID[txnID]; !dup {
		rc.byID[txnID] = body
	}
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"pdus":{"$ev3":{"error":"not allowed"}}}`)
}

func (rc *receiver) wait(t *testing.T) string {
	t.Helper()
	select {
	case id := <-rc.got:
		return id
	case <-time.After(30 * time.Second):
		t.Fatal("receiver got nothing")
		return ""
	}
}

func (rc *receiver) requests() []call {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.reqs)
}

func TestOverHTTP(t *testing.T) {
	rc, srv := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n > 0 {
			return false
		}
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":1000}`)
		return true
	})
	db := tempDB(t)
	clk := newFakeClock()
	q := newQueue(t, db, httpSender{srv.URL, srv.Client()}, clk, nil)

	// Events go out as given, including insignificant whitespace and
	// escapes a re-encoder would change.
	events := [][]byte{
		[]byte(`{ "content": {"body": "spaced \u00e9 <&>"} , "event_id": "$spaced", "type": "m.room.message" }`),
	}
	for i := range 69 {
		events = append(events, pdu(i))
	}
	for _, ev := range events {
		if err := q.EnqueuePDU([]string{"r.example"}, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.EnqueueEDU([]string{"r.example"}, "m.direct_to_device", []byte(`{"sender":"@a:box.example","type":"m.room_key_request","message_id":"m1","messages":{}}`), true); err != nil {
		t.Fatal(err)
	}
	q.Start(context.Background())
	first := rc.wait(t)
	waitFor(t, "backoff after 429", func() bool { st, _, _ := q.testState("r.example"); return st == stateWaiting })
	clk.Advance(time.Second)
	if again := rc.wait(t); again != first {
		t.Fatalf("after the 429 sent %s, want %s again", again, first)
	}
	rc.wait(t)
	waitFor(t, "queue to empty", func() bool { n, _ := q.Pending("r.example"); return n == 0 })

	reqs := rc.requests()
	if len(reqs) != 3 || string(reqs[0].body) != string(reqs[1].body) {
		t.Fatalf("%d requests; retry body identical: %v", len(reqs), len(reqs) > 1 && string(reqs[0].body) == string(reqs[1].body))
	}
	var ids []string
	for _, r := range reqs[1:] {
		ids = append(ids, parseTxn(t, r.body).eventIDs()...)
	}
	if len(ids) != 70 || ids[0] != "$spaced" || ids[1] != "$ev0" || ids[69] != "$ev68" {
		t.Errorf("delivered %d PDUs: %v…", len(ids), ids[:min(3, len(ids))])
	}
	all := append(slices.Clone(reqs[1].body), reqs[2].body...)
	for i, ev := range events {
		if !bytes.Contains(all, ev) {
			t.Errorf("PDU %d not sent verbatim: %s", i, ev)
		}
	}
	x := parseTxn(t, reqs[1].body)
	if len(x.edus) != 1 || x.edus[0].Path("content", "message_id").StrOr("") != "m1" {
		t.Errorf("EDUs %v", x.edus)
	}
	if st := q.Stats(); st.Sent != 2 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestBody(t *testing.T) {
	got := buildBody("o.example", 1234, [][]byte{[]byte(`{"b": 1}`), []byte(`{"a":2}`)}, nil)
	want := `{"origin":"o.example","origin_server_ts":1234,"pdus":[{"b": 1},{"a":2}]}`
	if string(got) != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	edu, err := encodeEDU("m.typing", []byte(` {"typing": true, "room_id": "!r:o"} `))
	if err != nil {
		t.Fatal(err)
	}
	got = buildBody("o.example", 1, nil, [][]byte{edu})
	want = `{"edus":[{"content":{"room_id":"!r:o","typing":true},"edu_type":"m.typing"}],"origin":"o.example","origin_server_ts":1,"pdus":[]}`
	if string(got) != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if c, err := cjson.Canonicalize(got); err != nil || string(c) != want {
		t.Errorf("not canonical: %s, %v", c, err)
	}
}

func TestEntryKeys(t *testing.T) {
	k := entryKey("a.example:8448", 258)
	dest, seq, ok := parseEntryKey(k)
	if !ok || dest != "a.example:8448" || seq != 258 {
		t.Errorf("round trip: %q %d %v", dest, seq, ok)
	}
	for _, bad := range [][]byte{nil, {0x41}, append([]byte{0x42}, k[1:]...), k[:len(k)-1]} {
		if _, _, ok := parseEntryKey(bad); ok {
			t.Errorf("parsed %x", bad)
		}
	}
	if bytes.HasPrefix(entryKey("a.b", 1), entryPrefix("a")) {
		t.Error("a's entry prefix matches a.b's entries")
	}
}
