// Package acl evaluates m.room.server_acl: which servers may take part in a
// room. ACLs act at the network layer (federation requests and the PDUs and
// EDUs they carry), not in the auth rules.
package acl
