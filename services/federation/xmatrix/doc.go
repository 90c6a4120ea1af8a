// Package xmatrix authenticates server-server requests with the X-Matrix
// Authorization scheme (spec server-server API, "Request Authentication").
//
// A sending server signs the canonical JSON object
//
//	{"method", "uri", "origin", "destination", "content"}
//
// ("content" only when there is a body) with its ed25519 server key and sends
//
//	Authorization: X-Matrix origin="a",destination="b",key="ed25519:k",sig="…"
//
// SigningJSON builds the object, Sign and SignWith build the header, Format
// writes it in the conservative form the spec asks senders to use, Parse reads
// every form RFC 9110 allows, and Verify checks an incoming request.
//
// Decisions where the spec leaves room (each has a test):
//
//   - Whitespace. After the scheme: one or more spaces or tabs. Around commas:
//     any spaces and tabs, and empty list elements are skipped (RFC 9110
//     §5.6.1.2). Around '=': spaces and tabs are accepted too, because RFC
//     9110 §11.2 writes auth-param as token BWS "=" BWS value and BWS is
//     whitespace a recipient must accept.
//   - Values are a quoted-string, whose backslash escapes are unescaped, or
//     a bare run of visible ASCII other than '"', ',' and '\'. That is wider
//     than an RFC token on purpose: the spec asks recipients to take bare
//     values with ':' ("ed25519:k", "host:port"), and bare base64 signatures
//     and IPv6 server names also hold '/', '+', '=', '[' and ']'.
//   - Names are case-insensitive. Unknown names are ignored. A known name
//     given twice is an error (two origins cannot both be believed).
//   - The signature parameter is "sig", as in the spec's example and every
//     implementation. The spec's parameter list calls it "signature"; that
//     name is accepted as an alias, and giving both is a duplicate.
//   - A missing destination is accepted (servers before spec v1.3 did not
//     send one); the signed object then uses our own name, which is what
//     such a server signed. An empty destination ("") is malformed.
//   - Several X-Matrix Authorization headers: all must name the same origin
//     and every one must verify (the rule signing.VerifyJSON applies to
//     signatures in an object); at most maxHeaders are looked at.
//     Authorization headers of other schemes are ignored.
//   - The signed "uri" is the request target exactly as received
//     (http.Request.RequestURI on a server), which is what the sender signed;
//     only when that is not in origin form is r.URL.RequestURI() used.
//   - The body must be JSON that canonical JSON can represent (integers
//     only, no duplicate keys): the signature is over its canonical form, so
//     anything else cannot be checked.
//
// Error mapping at the HTTP edge (the federation package does it; this
// package returns errors that wrap these sentinels, test with errors.Is):
//
//	ErrMissing          401 M_UNAUTHORIZED  no X-Matrix Authorization header
//	ErrBadHeader        401 M_UNAUTHORIZED  malformed header or bad origin/key ID
//	ErrWrongDestination 401 M_UNAUTHORIZED  destination is not this server
//	ErrUnknownKey       401 M_UNAUTHORIZED  the origin's key could not be found
//	ErrBadSignature     401 M_UNAUTHORIZED  the signature does not verify
//	ErrBadContent       400 M_NOT_JSON      body is not canonical-JSON-representable
//	                                       (M_BAD_JSON when errors.Is(err, cjson.ErrBadJSON))
package xmatrix
