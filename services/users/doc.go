// Package users keeps the accounts of this homeserver and everything hanging
// off them: devices, access and refresh tokens, user-interactive
// authentication (UIA) sessions, registration tokens, profiles, account data
// and sync filters. It has no HTTP handlers; the client API translates
// requests into calls on [Service] and maps the sentinel errors in errors.go
// to Matrix error codes.
//
// # Storage
//
// Everything durable lives in the server's one Badger database under the
// prefixes the storage registry reserves for this package. Values are JSON
// (encoding/json, small records that are cheap to evolve) unless noted;
// keys are built from fixed parts so that prefix scans select exactly one
// user's rows. NUL (0x00) separates variable-length parts: localparts, room
// IDs and device IDs cannot contain it, and account data types are checked
// not to.
//
//	PrefixUserAccount     + localpart                     → accountRecord
//	PrefixUserDevice      + localpart 0x00 deviceID       → deviceRecord
//	PrefixUserAccessToken + SHA-256(token)                → accessRecord
//	PrefixUserRefresh     + SHA-256(token)                → refreshRecord
//	PrefixUserRegToken    + token                         → regTokenRecord
//	PrefixUserProfile     + localpart                     → profile JSON object as served
//	PrefixUserAccountData 's'                             → stream head, uint64 big-endian
//	PrefixUserAccountData 'n' + localpart 0x00            → item count, uint64 big-endian
//	PrefixUserAccountData 'd' + localpart 0x00 room 0x00 type → pos (8 bytes BE) ‖ content
//	PrefixUserAccountData 'l' + localpart 0x00 pos (8 bytes BE) → room 0x00 type
//	PrefixUserFilter      + localpart 0x00 filterID       → created ms (8 bytes BE) ‖ filter JSON
//
// Accounts are keyed by localpart: every account here belongs to this
// server. Global account data uses the empty room ID. PrefixUserUIA is
// unused: UIA sessions live in memory (see [UIA]).
//
// # Secrets
//
// Passwords are stored only as argon2id hashes in PHC string form
// ("$argon2id$v=19$m=…,t=…,p=…$salt$hash"); hashing runs under a small
// semaphore so that a burst of logins cannot exhaust the memory of a 1 GiB
// board. Access and refresh tokens are 32 random bytes, base64url, with a
// recognisable prefix ("hth_" and "hthr_"); only their SHA-256 is ever
// written, so a copy of the database does not let anyone act as a user.
// Registration tokens are pre-shared, admin-visible strings and are stored
// as they are.
//
// # Tokens and devices
//
// Each device owns at most one live access token, one live refresh token and,
// just after a refresh, the refresh token it replaced. The device record
// names the hashes, so logging a device out finds every token to delete.
// Logging in again with an existing device ID replaces that device's tokens.
// Access tokens issued without a refresh token never expire; those issued
// with one expire after Options.AccessTokenLifetime and Authenticate then
// reports a soft logout.
//
// Refresh follows the spec's rotation rule: the old refresh token stays
// usable until the new access token or the new refresh token is first used,
// so a client that lost the response can repeat the refresh. The old access
// token is revoked at once (refresh.yaml allows either).
//
// Authenticate is on the hot path of every request; it keeps a bounded
// in-memory map from token hash to session. Every path that deletes a token
// drops it from the map, and a generation counter stops a lookup that raced
// with a logout from putting the stale entry back.
//
// # Account data stream
//
// Account data changes carry positions from one global, monotonically
// increasing uint64 stream stored under PrefixUserAccountData 's'. A writer
// takes a mutex, reads the head, writes head+1, the item and its change-log
// entry in one transaction, commits, and only then releases the mutex. So
// positions become visible in order: a reader that has seen position p has
// seen every position below p, and /sync can never skip a change. Each
// (room, type) keeps exactly one change-log entry, at its latest position.
package users
