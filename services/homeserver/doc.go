// Package homeserver wires Hearth together: it opens the store, builds every
// service from the configuration in dependency order (storage → users,
// roomserver → sync → client API), serves HTTP, and shuts everything down in
// reverse order. It holds no logic of its own.
package homeserver
