// Package power reads m.room.power_levels per room version: parsing (strict
// integers from room version 10, the spec's "stringy" values before), the
// defaults that apply when keys or the whole event are missing, and room
// creators, whose power is infinite in room version 12.
//
// The auth rules, state resolution and the client API (who may redact, who
// may @room) all ask this package, so the answers agree everywhere.
package power
