package config

import (
	"bytes"

	"github.com/BurntSushi/toml"
)

// decodeForTest returns the dotted paths of every key in a TOML document.
// Inline tables such as per_user = { ... } list their keys too.
func decodeForTest(data []byte) ([]string, error) {
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, k := range md.Keys() {
		keys = append(keys, k.String())
	}
	return keys, nil
}
