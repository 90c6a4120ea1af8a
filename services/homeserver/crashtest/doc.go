// Package crashtest holds the durability tests of the homeserver: they run
// the real hearth binary as a child process, kill it with SIGKILL (or stop
// it with SIGTERM) while a client is writing, restart it on the same data
// directory and check that nothing the server acknowledged was lost or
// duplicated.
//
// SIGKILL ends the process, not the machine: data the server handed to the
// kernel survives. These tests therefore check that the server acknowledges
// a request only after its writes left the process (and that transaction
// IDs keep deduplicating across a crash), not power-loss durability.
//
// The package also exports the small harness the tests use (Build, Start,
// Proc), so that other end-to-end tests such as ../niotest can drive the
// binary the same way. The tests are skipped under go test -short.
package crashtest
