// Package federationtest runs several Hearth homeservers in one test on
// loopback, federating over real TLS from a test CA, with server names
// resolved by a fake DNS (SRV records pointing at each server's port), and
// gives tests a small Matrix client for each.
package federationtest
