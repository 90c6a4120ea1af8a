// Package proc runs Hearth homeservers as child processes (the real
// binary, "hearth run -config FILE") that federate with each other, and
// gives tests a small Matrix client for each. It is the process-level
// sibling of the in-process ../federationtest harness: a node can be
// stopped with SIGTERM, killed with SIGKILL and restarted on the same data
// directory and the same address.
//
// Server names are IP literals with a port, so no DNS is involved: a node
// on loopback is "127.0.0.1:PORT" with a port fixed for the node's
// lifetime, a node in a network namespace is "10.77.0.N:8448". Every
// federation certificate comes from one test CA (transporttest), written
// to files and trusted through federation.extra_ca_files; the configs set
// federation.allow_private_networks so that the guarded dialer may reach
// those addresses.
//
// Cutting a loopback node off (StartCutOff) needs no privileges: the node
// runs with its federation listener on a port no other node knows (so
// every request to its server name is refused) and with
// allow_private_networks off (so its guarded dialer refuses every peer
// address). Its client API keeps working, as a field unit's does for the
// people next to it.
//
// Real partitions use network namespaces (Switch, Host, Linux and root or
// CAP_NET_ADMIN only): a "switch" namespace holds a bridge, each host
// namespace is wired to it by a veth pair, and a partition sets the
// switch-side end of a host's link down, like pulling its cable. A hearth
// process runs in its host namespace (ip netns exec) with both listeners
// there: federation on the host's bridge address, the client API on the
// namespace's own loopback. The test process reaches that loopback by
// creating its sockets inside the namespace (setns on a locked thread), so
// nothing is added to the root namespace and concurrent runs cannot clash.
package proc
