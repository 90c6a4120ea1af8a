package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"
)

// Duration is a time.Duration written as a string in JSON ("10s").
type Duration time.Duration

// MarshalJSON writes the duration as "1m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Params are the sizes of every scenario; they are written into each run.
type Params struct {
	// IdleWait is how long after start (or after the data set is loaded)
	// the idle figures are read.
	IdleWait Duration `json:"idle_wait"`

	LatencyUsers    int `json:"latency_users"`
	LatencyMessages int `json:"latency_messages"`

	ThroughputDuration Duration `json:"throughput_duration"`
	ThroughputSenders  int      `json:"throughput_senders"`
	ThroughputRooms    int      `json:"throughput_rooms"`
	ThroughputSyncers  int      `json:"throughput_syncers"`

	// The initial-sync data set, shaped like the SBRC 2026 study.
	DatasetUsers    int `json:"dataset_users"`
	DatasetRooms    int `json:"dataset_rooms"`
	DatasetMembers  int `json:"dataset_members"`
	DatasetMessages int `json:"dataset_messages_per_room"`

	PaginationEvents int `json:"pagination_events"`

	FederationMembers int `json:"federation_members"`

	Accounts int `json:"accounts"`

	// Concurrency is how many requests data set creation keeps in flight.
	Concurrency int `json:"concurrency"`
}

// DefaultParams is the full suite of issue 5.
func DefaultParams() Params {
	return Params{
		IdleWait:     Duration(10 * time.Second),
		LatencyUsers: 100, LatencyMessages: 1000,
		ThroughputDuration: Duration(60 * time.Second), ThroughputSenders: 50, ThroughputRooms: 100, ThroughputSyncers: 20,
		DatasetUsers: 200, DatasetRooms: 300, DatasetMembers: 300, DatasetMessages: 5,
		PaginationEvents:  10000,
		FederationMembers: 10000,
		Accounts:          200,
		Concurrency:       16,
	}
}

// QuickParams is the reduced suite of make bench-quick (about two
// minutes).
func QuickParams() Params {
	return Params{
		IdleWait:     Duration(10 * time.Second),
		LatencyUsers: 20, LatencyMessages: 100,
		ThroughputDuration: Duration(10 * time.Second), ThroughputSenders: 10, ThroughputRooms: 20, ThroughputSyncers: 5,
		DatasetUsers: 30, DatasetRooms: 30, DatasetMembers: 30, DatasetMessages: 3,
		PaginationEvents:  1000,
		FederationMembers: 300,
		Accounts:          30,
		Concurrency:       16,
	}
}

// Scale shrinks the data set (users, rooms, members, federation room)
// by f, keeping at least a handful of each.
func (p Params) Scale(f float64) Params {
	s := func(n int) int { return max(int(float64(n)*f), 2) }
	p.DatasetUsers, p.DatasetRooms, p.DatasetMembers = s(p.DatasetUsers), s(p.DatasetRooms), s(p.DatasetMembers)
	p.FederationMembers = s(p.FederationMembers)
	return p
}

// datasetKey names a data set by the server it lives on and the
// parameters that shape it.
func (p Params) datasetKey(server string) string {
	shape := struct {
		Server                                   string
		LU, TS, TR, TY, DU, DR, DM, DMsg, PE, FM int
	}{server, p.LatencyUsers, p.ThroughputSenders, p.ThroughputRooms, p.ThroughputSyncers,
		p.DatasetUsers, p.DatasetRooms, p.DatasetMembers, p.DatasetMessages, p.PaginationEvents, p.FederationMembers}
	b, _ := json.Marshal(shape)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:6])
}
