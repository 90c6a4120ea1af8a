// Package transporttest gives tests a private network of named servers on
// loopback: an in-memory certificate authority (CA) that issues certificates
// for names like hs1.test or 127.0.0.1, and a FakeResolver that maps names
// to addresses and answers SRV queries.
//
// A typical federation test runs each homeserver on its own loopback port
// and names it either with the port ("hs1.test:43211", discovery step 2) or
// with an SRV record pointing at the port, so that several servers can share
// 127.0.0.1. The guarded dialer must then be built with AllowPrivate, since
// loopback is not public.
package transporttest
