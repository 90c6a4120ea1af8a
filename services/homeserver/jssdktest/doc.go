// Package jssdktest runs a real third-party client, npm's matrix-js-sdk
// (the library Element Web is built on), against the hearth binary, to
// show that Element-style clients work for unencrypted chat.
//
// scenario.mjs registers two users through the /register user-interactive
// auth flow (m.login.dummy), logs in with a password and runs the SDK's own
// sync loop (startClient) for both. User 1 creates a room, invites user 2,
// who joins; user 1 sends 20 messages that user 2 must receive through its
// sync; user 2 logs in on a second device (initial sync of 10 events) and
// pages back to the create event with scrollback, and pages /messages by
// hand with createMessagesRequest; then typing, a read receipt, a
// redaction, a display name change and a leave, each observed by the other
// user through the SDK's events. A probe step calls endpoints Element calls
// at startup that the SDK in Node does not (turn server, third-party
// protocols, media config, key query and backup). Every non-2xx answer is
// listed in the summary with method and path; those for endpoints the
// server lacks do not fail the test; every other problem does.
//
// Install the client with .ci/install-jssdk (npm ci from the package.json
// and package-lock.json here, which pin the SDK). Without node_modules the
// test is skipped, unless CI=true, where it fails. It is skipped with
// -short.
package jssdktest
