// Package queue delivers what this server owes other servers: one durable,
// ordered outbound queue per destination, drained by bounded workers into
// federation transactions (spec: server-server API, "Transactions", and
// PUT /_matrix/federation/v1/send/{txnId}).
//
// A Hearth field unit may be offline for days. Everything it queues must
// arrive when the link is back, exactly once as far as the receiver can
// tell, even if the process is killed at any point. The design:
//
//   - EnqueuePDU and durable EnqueueEDU write one synced Badger transaction
//     for all destinations before they return. Non-durable EDUs (typing)
//     live in memory only and expire after Options.VolatileTTL.
//   - A worker takes the oldest entries of a destination (at most 50 PDUs
//     and 100 EDUs, the spec's limits), records them as the destination's
//     pending transaction (a fresh txn ID, the timestamp and the covered
//     sequence numbers, plus any in-memory EDUs it carries) and only then
//     sends. On a 200 it deletes the covered entries and the pending record
//     in one synced transaction. After a crash the same pending transaction
//     is rebuilt byte for byte and resent with the same txn ID, so the
//     receiver's deduplication on (origin, txnId) drops the copy. The spec
//     asks a sender to retry a transaction until it gets a 200 before
//     sending another one; a destination has at most one pending
//     transaction.
//   - Txn IDs are "<counter>.<nonce>": a per-destination counter kept in
//     the destination record and a random nonce chosen with each new
//     transaction, so IDs stay unique even if a backup restore or a
//     corrupt record rewinds the counter, and no clock is involved.
//   - PDUs to one destination go out in enqueue order. EDUs go out in
//     their own order but do not wait behind a long PDU backlog.
//
// Failures. A network error, a 5xx, a 401 (the receiver could not check
// our signature, e.g. because it could not fetch our keys while we were
// unreachable), a 408 and a 429 are retried with the same transaction: the
// delay doubles from MinBackoff to MaxBackoff with up to 25% jitter taken
// off, and a 429's retry_after_ms is honoured (capped at MaxBackoff). Any
// other 4xx is a permanent refusal: the transaction's entries are dropped
// and logged, and the queue moves on. Per-PDU errors in a 200 answer are
// logged, not retried.
//
// The backoff state is persisted, so a restart does not hammer a dead
// server. Start still tries every destination with queued work once, right
// away: after a reboot either side may be back, and one request per
// destination per boot is cheap. If that try fails the backoff continues
// from its persisted level. MaxBackoff defaults to 10 minutes; quick
// catch-up does not depend on it: Wake (the destination just talked to us)
// and WakeAll (our own link came back) retry within MinBackoff of the last
// attempt (2 s by default), never faster, so a chatty peer that we cannot
// reach back does not turn into a retry storm.
//
// Limits. A PDU is at most 65,536 bytes (spec), an EDU at most 256 KiB, a
// transaction at most 4 MiB (it always carries at least one entry). A
// destination holds at most MaxQueuedPerDestination durable entries
// (100,000). When a destination is full the oldest durable EDU not in the
// pending transaction is dropped to make room; if there is none, a PDU or
// EDU is refused for that destination and the enqueue returns a
// *NotQueuedError naming it (and logs an error); PDUs are never dropped
// silently. In-memory EDUs are bounded per destination too (oldest
// dropped).
//
// Storage (keys under this package's two prefixes):
//
//	PrefixFedQueue       destination 0x00 seq (8 bytes BE) → PDU JSON or EDU object JSON
//	                     (Badger user meta says which: 'P' or 'E')
//	PrefixFedDestination destination → record (JSON): next txn counter,
//	                     failures, retry time, pending transaction
//
// Server names never contain a 0x00 byte, so destination 0x00 is a safe
// prefix for one destination's entries.
package queue
