// Package sync serves /sync: stream positions and tokens, the response
// builder, and the in-process notifier that wakes long polls the moment an
// event that concerns them is committed. There is no message bus: the room
// server calls the notifier directly after each commit.
package sync
