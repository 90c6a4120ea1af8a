package federation

// routes registers every endpoint. Paths are the spec's; v1 send_join,
// send_leave and invite (removed or room v1/v2 only) are not served.
func (s *Server) routes() {
	rt := s.router
	const f = "/_matrix/federation"
	rt.handle("GET "+f+"/v1/version", s.handleVersion)
	rt.handle("GET /_matrix/key/v2/server", s.handleOwnKeys)
	rt.handle("GET /_matrix/key/v2/server/{keyId}", s.handleOwnKeys)
	rt.handle("POST /_matrix/key/v2/query", s.handleNotaryPost)
	rt.handle("GET /_matrix/key/v2/query/{serverName}", s.handleNotaryGet)

	rt.handle("PUT "+f+"/v1/send/{txnId}", s.authed(s.handleSend))
	rt.handle("GET "+f+"/v1/make_join/{roomId}/{userId}", s.authed(s.handleMake("join")))
	rt.handle("PUT "+f+"/v2/send_join/{roomId}/{eventId}", s.authed(s.handleSendJoin))
	rt.handle("GET "+f+"/v1/make_leave/{roomId}/{userId}", s.authed(s.handleMake("leave")))
	rt.handle("PUT "+f+"/v2/send_leave/{roomId}/{eventId}", s.authed(s.handleSendLeave))
	rt.handle("GET "+f+"/v1/make_knock/{roomId}/{userId}", s.authed(s.handleMake("knock")))
	rt.handle("PUT "+f+"/v1/send_knock/{roomId}/{eventId}", s.authed(s.handleSendKnock))
	rt.handle("PUT "+f+"/v2/invite/{roomId}/{eventId}", s.authed(s.handleInvite))

	rt.handle("GET "+f+"/v1/state/{roomId}", s.authed(s.handleState(false)))
	rt.handle("GET "+f+"/v1/state_ids/{roomId}", s.authed(s.handleState(true)))
	rt.handle("GET "+f+"/v1/event/{eventId}", s.authed(s.handleEvent))
	rt.handle("GET "+f+"/v1/event_auth/{roomId}/{eventId}", s.authed(s.handleEventAuth))
	rt.handle("GET "+f+"/v1/backfill/{roomId}", s.authed(s.handleBackfill))
	rt.handle("POST "+f+"/v1/get_missing_events/{roomId}", s.authed(s.handleMissingEvents))
	rt.handle("GET "+f+"/v1/timestamp_to_event/{roomId}", s.authed(s.handleTimestampToEvent))

	rt.handle("GET "+f+"/v1/query/directory", s.authed(s.handleQueryDirectory))
	rt.handle("GET "+f+"/v1/query/profile", s.authed(s.handleQueryProfile))
	rt.handle("GET "+f+"/v1/user/devices/{userId}", s.authed(s.handleUserDevices))
	rt.handle("POST "+f+"/v1/user/keys/query", s.authed(s.handleKeysQuery))
	rt.handle("GET "+f+"/v1/publicRooms", s.authed(s.handlePublicRooms))
	rt.handle("POST "+f+"/v1/publicRooms", s.authed(s.handlePublicRooms))
}
