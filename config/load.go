package config

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// MaxFileBytes bounds the size of a configuration file. Real ones are a few
// KiB; the limit keeps a wrong path (a disk image, /dev/zero) from eating
// the memory of a small board.
const MaxFileBytes = 64 << 10

// Load reads the TOML file at path and returns the configuration with
// defaults applied. A file that is not TOML, or whose values have the wrong
// type, fails with an error naming the line; otherwise unknown keys and
// every failed check of Validate are returned together as a *Problems.
// Files over MaxFileBytes, and ones nested deeper than any configuration
// needs, are refused before decoding.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	c, err := parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse is Load for the contents of a file.
func Parse(data []byte) (Config, error) {
	c, err := parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	return c, nil
}

func parse(data []byte) (Config, error) {
	if len(data) > MaxFileBytes {
		return Config{}, fmt.Errorf("file larger than %d bytes", MaxFileBytes)
	}
	if err := checkNesting(data); err != nil {
		return Config{}, err
	}
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return Config{}, tomlError(err)
	}
	ps := unknownKeys(md.Keys())
	c = c.WithDefaults()
	var invalid *Problems
	if errors.As(c.Validate(), &invalid) {
		ps = append(ps, *invalid...)
	}
	if err := ps.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// tomlError drops the "toml: " prefix of the decoder's errors; the callers
// say that the error is about the configuration. The messages name the line
// and the last key read.
func tomlError(err error) error {
	return errors.New(strings.TrimPrefix(err.Error(), "toml: "))
}

// unknownKeys reports every key in the file that is not a field of Config,
// once: for an unknown table, the table and not each key in it. The decoder
// matches keys to fields case-insensitively as a fallback, so keys it did
// decode are checked too: "Server.Name" is an error, not a second spelling
// of "server.name".
func unknownKeys(keys []toml.Key) Problems {
	known := knownKeys()
	var ps Problems
	reported := map[string]bool{}
	for _, k := range keys {
		// The first prefix of k that is not known. Known paths have at
		// most maxKnownDepth parts, so it is found among the first
		// maxKnownDepth+1.
		path := ""
		for i := 1; i <= len(k) && i <= maxKnownDepth+1; i++ {
			if p := k[:i].String(); !known[p] {
				path = p
				break
			}
		}
		if path == "" || reported[path] {
			continue
		}
		reported[path] = true
		if s := suggest(known, path); s != "" {
			ps.add(path, "unknown key (keys are lower case: did you mean %q?)", s)
		} else {
			ps.add(path, "unknown key")
		}
	}
	return ps
}

// suggest returns the known key that differs from path only in case.
func suggest(known map[string]bool, path string) string {
	if lower := strings.ToLower(path); known[lower] {
		return lower
	}
	return ""
}

// maxKnownDepth is the most parts a known path has ("limits.per_user.burst").
// TestKnownKeys checks it.
const maxKnownDepth = 3

// knownKeys is the set of dotted paths of Config's tables and keys.
var knownKeys = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := prefix + name
			known[path] = true
			isText := reflect.PointerTo(f.Type).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
			if f.Type.Kind() == reflect.Struct && !isText {
				walk(path+".", f.Type)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return known
})
