package pdu

import (
	"fmt"

	"hearth/services/matrix/cjson"
	"hearth/services/matrix/signing"
)

// SignEvent adds the content hash to an event object and signs its redacted
// form as serverName (server-server API, "Signing events"). Existing
// signatures are kept.
func (v *RoomVersion) SignEvent(obj cjson.Value, serverName string, key signing.Key) (cjson.Value, error) {
	obj = WithContentHash(obj)
	signed, err := signing.SignJSON(v.Redact(obj), serverName, key)
	if err != nil {
		return cjson.Value{}, err
	}
	return obj.With("signatures", signed.Get("signatures")), nil
}

// RequiredSigners are the servers whose signatures an event must carry: the
// sender's server and, for any member event that names a
// join_authorised_via_users_server (auth rule 5.2 in v12, 4.2 in v8–v11),
// that user's server.
func RequiredSigners(e *Event) []string {
	servers := []string{e.SenderDomain()}
	if e.ver.Restricted && e.typ == "m.room.member" {
		if via, ok := e.content.Get("join_authorised_via_users_server").Str(); ok {
			if d := Domain(via); d != "" && d != servers[0] {
				servers = append(servers, d)
			}
		}
	}
	return servers
}

// VerifySignatures checks the signatures of every required signer on the
// redacted event. lookup decides which keys are valid for this event (for
// example, by the event's origin_server_ts).
func VerifySignatures(e *Event, lookup signing.KeyLookup) error {
	red := e.ver.Redact(e.obj)
	for _, server := range RequiredSigners(e) {
		if err := signing.VerifyJSON(red, server, lookup); err != nil {
			return fmt.Errorf("event %s: %w", e.id, err)
		}
	}
	return nil
}

// ContentHashOK reports whether the event's content hash matches. A received
// event whose hash does not match is kept only in its redacted form.
func (e *Event) ContentHashOK() bool { return ContentHashMatches(e.obj) }
