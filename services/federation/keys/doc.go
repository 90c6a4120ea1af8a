// Package keys holds server signing keys: ours, as published at
// /_matrix/key/v2/server, and other servers', fetched, checked, stored and
// served again as a notary (spec server-server API, "Retrieving server
// keys").
//
// Signer is the one interface the rest of the server uses for our signing
// key (the TPM implements it; FromSigningKey adapts an in-memory key), and
// SignJSON signs an object with it. OwnKeys builds our signed key response.
//
// Ring answers "which key did server S use with ID K at time T":
//
//   - Our own name: the Signer, or an OldKey while T ≤ its expired_ts.
//   - A key stored in Badger whose validity covers T. A current key (from
//     verify_keys) is valid until the lesser of the response's
//     valid_until_ts and the time we received it + 7 days (the spec's cap,
//     which room versions 5 and up enforce and which we apply to every room
//     version we support). An old key (old_verify_keys) is valid until its
//     expired_ts, but only until just before we learnt it was old, so an
//     old key never authenticates a request.
//   - Otherwise GET /_matrix/key/v2/server on S, then POST
//     /_matrix/key/v2/query on each configured notary in turn. A response
//     counts only if its server_name is S, it is no larger than
//     MaxResponseSize with at most MaxKeys keys, and every ed25519 verify
//     key it lists has signed it. A notary's entry must also carry a valid
//     signature of the notary, with the notary's key fetched from the
//     notary itself.
//
// Fetching is throttled per server: concurrent lookups share one fetch; a
// failed fetch pauses fetching for a minute, doubling up to ten; and after a
// successful fetch the next comes no sooner than a minute later, so lookups
// of key IDs a server does not have (forged origins) cannot become a flood.
// Wake lifts both pauses once the server has proved to be alive.
//
// Stored keys are also kept in a bounded in-memory copy, so the hot path
// (an already known key) does not touch Badger.
//
// A stored key is replaced only by a response at least as fresh as the one
// it came from (by valid_until_ts), so an old response replayed through a
// notary cannot undo a newer one. Each response is stored as received and
// returned, with only the server's own signatures plus ours, when we act as
// a notary (NotaryGet, NotaryResponse).
package keys
