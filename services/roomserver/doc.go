// Package roomserver is the only writer of room data. It builds local events
// (prev_events from the forward extremities, auth events by the selection
// algorithm, depth, hashes, signature), checks them against the auth rules of
// the room's version, and commits each accepted event with its timeline
// entry, state change, membership index and transaction ID in one synced
// Badger transaction. Readers (client API, sync) see only what is committed:
// every event gets a position from one global sequence, and the watermark of
// that sequence never passes an event whose commit has not finished.
//
// Rooms are serialised by a per-room lock; different rooms commit in
// parallel and share fsyncs through Badger's batched commits.
package roomserver
