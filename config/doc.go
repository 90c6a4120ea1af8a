// Package config is Hearth's configuration: one TOML file, read into the
// plain struct Config.
//
// The zero value works. An empty file (or no file: Config{}) is a server
// named "localhost" listening on 127.0.0.1:8008 with its data in ./data,
// registration closed and federation off, which is what a laptop wants.
// Every field's doc comment says what its zero value means; most zero
// values stand for a default, filled in by WithDefaults, and Default
// returns them all. A bool whose default is "on" is named for turning it
// off (Presence.Disabled, Client.DisableCORS), so that false is the
// default. The examples folder has a commented file per deployment profile
// (laptop, municipality, school campus, field unit, backbone); laptop.toml
// spells out every key with its default value.
//
// A file is read with Load (or Parse) in one pass that reports every
// problem at once: keys that Config does not have (misspellings are errors,
// not silently ignored settings), then every failed check of Validate. Each
// problem carries the dotted path of its key, such as
// "registration.shared_secret", in a *Problems error, so the person at the
// box fixes everything in one go. Syntax errors stop the pass early and say
// which line.
//
// Conventions of the file:
//
//   - Keys are snake_case: the Go field Client.MaxBodyBytes is
//     max_body_bytes in the [client] table. Keys are case-sensitive.
//   - Durations are strings in Go syntax ("90s", "15m", "24h"); see
//     Duration.
//   - Sizes carry their unit in the key: max_body_bytes, memory_limit_mib,
//     max_timeout_ms.
//   - Paths of files are read when the server starts, not by Validate,
//     which does no I/O.
//
// The package only describes configuration; the homeserver package turns it
// into the options of each service.
package config
