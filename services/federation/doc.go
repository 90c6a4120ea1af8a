// Package federation is the Server-Server API: the /_matrix/federation and
// /_matrix/key endpoints other servers call (every request authenticated
// with X-Matrix, server ACLs enforced), and the client side of the same
// API: signed requests routed by server discovery through the pluggable
// transport, the durable outbound queue fed by local events and EDUs, and
// the join, leave and invite handshakes local users start.
//
// Received PDUs are checked here for format, signatures and content hash
// (the redacted form is used when the hash fails); the room server applies
// the auth rules, soft-fail and state resolution, and fetches what it
// lacks through a Fetcher this package provides.
//
// Subpackages: xmatrix (request signatures), keys (server keys and the
// notary), discovery (server name resolution), queue (outbound queues).
package federation
