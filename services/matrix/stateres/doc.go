// Package stateres implements the Matrix state resolution algorithms of room
// versions 2 to 12: v2 (rooms 2–11, content/rooms/fragments/v2-state-res.md)
// and v2.1 (room 12, content/rooms/v12.md "State resolution", MSC4297).
//
// Resolve takes the states to merge (for the state before an event, the
// states after each of its prev events), a way to fetch events, and the room
// version, and returns the resolved state as event IDs:
//
//  1. split the states into the unconflicted state map and the conflicted
//     state set (a key missing from some state is conflicted);
//  2. the full conflicted set: the conflicted events, the auth difference
//     and, in v2.1, the conflicted state subgraph;
//  3. X, the power events of the full conflicted set with the events of their
//     auth chains that are in it, sorted by the reverse topological power
//     ordering (Kahn's algorithm; ties to the higher sender power level, then
//     the smaller origin_server_ts, then the smaller event ID);
//  4. the iterative auth checks (auth.Allowed) over X, from the unconflicted
//     state map (v2) or from an empty state (v2.1);
//  5. the other events, sorted by the mainline ordering based on the power
//     levels of that partial state (greater mainline position first, then
//     smaller origin_server_ts, then smaller event ID), and the iterative
//     auth checks over them;
//  6. the unconflicted state map overwrites the result.
//
// The result does not depend on the order of the input states or on map
// iteration: every order used is total. Work is linear in the events loaded
// (plus sorting), and Input.MaxAuthChain bounds how many may be loaded;
// missing events, a cyclic auth graph and malformed input are errors.
//
// Where the spec leaves room, this package decides as follows.
//
//   - Full auth chains. The auth difference compares, for each state S_i, the
//     events of S_i together with their auth chains (as the reference
//     implementation does). Read literally ("the union of the auth chains for
//     each event in S_i"), an event of S_i cited by no other event of S_i is
//     missing from its own state's chain, which would let unconflicted events
//     into the auth difference; with the events included, unconflicted
//     events never are, and identical states have no auth difference.
//   - X follows the spec's wording: every event in the auth chain of a power
//     event that is in the full conflicted set, reached through any path
//     (not only through events of the full conflicted set, as some
//     implementations walk it). The DAG sorted in step 3 has an edge from an
//     event of X to each of its own auth events that is in X.
//   - Sender power levels in step 3 come from the event's auth events: its
//     power-levels event, or without one the defaults with the creator at
//     100 (infinite for v12 creators). Unreadable power-levels content, which
//     the auth rules would have refused, gives 0 (infinite for creators).
//     Rejected auth events are not filtered here; the spec filters them only
//     in the iterative auth checks.
//   - Room version 12 lists no create event in auth_events, yet the auth rules
//     need it and it names the creators. The create event whose ID the room
//     ID gives is treated as an implicit auth event of every other v12 event:
//     in auth chains, in sender power levels and in the iterative auth checks,
//     where v2.1 starts from an empty state and could not otherwise find it.
//   - Iterative auth checks: an event is checked against the partial state,
//     and for each key the partial state lacks, against the event's own auth
//     event of that key unless it was rejected (Input.Rejected). A rejected
//     event in the partial state is passed over the same way. Rule 3 (the
//     auth events themselves) is not re-checked: it depends only on the event
//     and held when the event was accepted. Events that are not state events
//     are skipped. Events are re-checked whatever their own rejection status,
//     as the spec says.
//   - v2.1: the partial state of step 2 contains only replayed events, so the
//     mainline of step 3 is empty (every position infinite) when no
//     power-levels event was replayed, even if the unconflicted state has one.
//     That is what the amended text says, and MSC4297 notes that unconflicted
//     state returns only in step 5.
//   - A power event is a state event of type m.room.power_levels or
//     m.room.join_rules (whatever its state key), or an m.room.member state
//     event with membership leave or ban whose sender is not its state key.
//   - The mainline steps go through the first m.room.power_levels event in
//     auth_events (the auth rules allow only one).
package stateres
