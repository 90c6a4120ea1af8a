// Package signing signs and verifies JSON objects the Matrix way: ed25519 over
// the canonical JSON of the object without its "signatures" and "unsigned"
// members, signatures stored as unpadded base64 under
// signatures[entity]["ed25519:<version>"] (spec appendices, "Signing JSON").
//
// It also holds Matrix's unpadded base64, which event IDs, hashes, keys and
// signatures all use.
package signing
