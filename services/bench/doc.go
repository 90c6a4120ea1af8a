// Package bench is Hearth's load generator and benchmark runner: the
// library behind appliance/hearthbench and `make bench`.
//
// It speaks only the standard Client-Server API (and, for the federation
// scenario, drives two servers that federate through the Server-Server
// API), so it measures any homeserver. The server under test is either
// started by the runner from a command line (then its memory and CPU are
// read from /proc), built and started as Hearth (the default), or reached
// by URL. Users are created with shared-secret registration
// (/_synapse/admin/v1/register) or with a registration token.
//
// A run is a list of scenarios (idle, latency, throughput, initial sync,
// pagination, federation join, accounts); each adds named figures with a
// unit to a Run, which is printed as a table and written as JSON. Two
// Run files can be compared side by side. The data set the scenarios need
// is created concurrently and persisted next to the server's data, keyed
// by server and parameters, so that the next run reuses it.
package bench
