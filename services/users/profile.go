package users

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	badger "github.com/dgraph-io/badger/v4"

	"hearth/services/matrix/ids"
)

// Profiles are stored as the JSON object the profile API serves
// ({"displayname": …, "avatar_url": …, "m.tz": …, custom fields}), so reading
// one is a lookup and no re-encoding. The spec caps the whole profile at
// 64 KiB and keys at 255 bytes.

// Profile is a user's profile.
type Profile struct {
	DisplayName string // "" when unset
	AvatarURL   string // an mxc:// URI, "" when unset
	// Extra holds every other field (m.tz, custom namespaced keys) as raw
	// JSON values.
	Extra map[string]json.RawMessage
}

const (
	fieldDisplayName   = "displayname"
	fieldAvatarURL     = "avatar_url"
	fieldTimeZone      = "m.tz"
	maxProfileBytes    = 64 << 10
	maxProfileKeyBytes = 255
	maxDisplayName     = 256
	maxAvatarURL       = 1024
)

func checkDisplayName(name string) error {
	if len(name) > maxDisplayName {
		return tooLarge("display name longer than %d bytes", maxDisplayName)
	}
	if !utf8.ValidString(name) {
		return invalidParam("display name is not UTF-8")
	}
	return nil
}

// checkAvatarURL accepts "" or mxc://<server name>/<media ID>.
func checkAvatarURL(u string) error {
	if u == "" {
		return nil
	}
	if len(u) > maxAvatarURL {
		return tooLarge("avatar URL longer than %d bytes", maxAvatarURL)
	}
	rest, ok := strings.CutPrefix(u, "mxc://")
	server, media, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || !ids.ValidServerName(server) || !ids.ValidOpaqueID(media) {
		return invalidParam("avatar URL must be an mxc:// URI")
	}
	return nil
}

// checkProfileKey applies the profile key grammar of the spec: avatar_url,
// displayname, m.tz, or a namespaced [a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+.
func checkProfileKey(k string) error {
	if len(k) > maxProfileKeyBytes {
		return fmt.Errorf("%w: profile keys are at most %d bytes", ErrKeyTooLarge, maxProfileKeyBytes)
	}
	switch k {
	case fieldDisplayName, fieldAvatarURL, fieldTimeZone:
		return nil
	}
	parts := strings.Split(k, ".")
	if len(parts) < 2 {
		return invalidParam("invalid profile key")
	}
	for _, p := range parts {
		if p == "" || p[0] < 'a' || p[0] > 'z' {
			return invalidParam("invalid profile key")
		}
		for i := 1; i < len(p); i++ {
			c := p[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
				return invalidParam("invalid profile key")
			}
		}
	}
	return nil
}

func newProfileObject(displayName string) map[string]json.RawMessage {
	obj := map[string]json.RawMessage{}
	if displayName != "" {
		obj[fieldDisplayName], _ = json.Marshal(displayName)
	}
	return obj
}

// writeProfile stores a profile object, enforcing the 64 KiB cap.
func writeProfile(txn *badger.Txn, local string, obj map[string]json.RawMessage) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	if len(b) > maxProfileBytes {
		return tooLarge("profile larger than 64 KiB")
	}
	return txn.Set(profileKey(local), b)
}

// readProfile loads a profile object; an account without one (erased) has an
// empty profile, a missing account gives ErrNotFound.
func readProfile(txn *badger.Txn, local string) (map[string]json.RawMessage, error) {
	obj := map[string]json.RawMessage{}
	found, err := getJSON(txn, profileKey(local), &obj)
	if err != nil || found {
		return obj, err
	}
	if _, err := txn.Get(accountKey(local)); errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	return obj, nil
}

// Profile returns a user's profile, or ErrNotFound for an unknown user.
func (s *Service) Profile(userID string) (Profile, error) {
	obj, err := s.ProfileFields(userID)
	if err != nil {
		return Profile{}, err
	}
	var p Profile
	for k, v := range obj {
		switch k {
		case fieldDisplayName:
			_ = json.Unmarshal(v, &p.DisplayName)
		case fieldAvatarURL:
			_ = json.Unmarshal(v, &p.AvatarURL)
		default:
			if p.Extra == nil {
				p.Extra = map[string]json.RawMessage{}
			}
			p.Extra[k] = v
		}
	}
	return p, nil
}

// ProfileFields returns the whole profile as the profile API serves it.
func (s *Service) ProfileFields(userID string) (map[string]json.RawMessage, error) {
	local, err := s.localpart(userID)
	if err != nil {
		return nil, err
	}
	var obj map[string]json.RawMessage
	err = s.db.View(func(txn *badger.Txn) error {
		obj, err = readProfile(txn, local)
		return err
	})
	return obj, err
}

// SetDisplayName sets the display name (at most 256 bytes); "" removes it.
func (s *Service) SetDisplayName(userID, name string) error {
	if err := checkDisplayName(name); err != nil {
		return err
	}
	v, _ := json.Marshal(name)
	return s.updateProfile(userID, fieldDisplayName, v, name == "")
}

// SetAvatarURL sets the avatar (an mxc:// URI); "" removes it.
func (s *Service) SetAvatarURL(userID, url string) error {
	if err := checkAvatarURL(url); err != nil {
		return err
	}
	v, _ := json.Marshal(url)
	return s.updateProfile(userID, fieldAvatarURL, v, url == "")
}

// SetProfileField sets one profile field to a JSON value. displayname and
// avatar_url go through SetDisplayName and SetAvatarURL; m.tz must be a
// string; other keys take any JSON value. Errors: ErrKeyTooLarge,
// ErrInvalidParam (bad key or value), ErrTooLarge (profile over 64 KiB).
func (s *Service) SetProfileField(userID, key string, value json.RawMessage) error {
	if err := checkProfileKey(key); err != nil {
		return err
	}
	if len(value) > maxProfileBytes {
		return tooLarge("profile larger than 64 KiB")
	}
	if !json.Valid(value) {
		return invalidParam("profile value is not JSON")
	}
	switch key {
	case fieldDisplayName, fieldAvatarURL, fieldTimeZone:
		var str string
		if err := json.Unmarshal(value, &str); err != nil {
			return invalidParam("%s must be a string", key)
		}
		switch key {
		case fieldDisplayName:
			return s.SetDisplayName(userID, str)
		case fieldAvatarURL:
			return s.SetAvatarURL(userID, str)
		}
		if len(str) > maxDisplayName {
			return tooLarge("time zone too long")
		}
	}
	compact, err := compactJSON(value)
	if err != nil {
		return err
	}
	return s.updateProfile(userID, key, compact, false)
}

// DeleteProfileField removes a field; a missing field is no error.
func (s *Service) DeleteProfileField(userID, key string) error {
	if err := checkProfileKey(key); err != nil {
		return err
	}
	return s.updateProfile(userID, key, nil, true)
}

func (s *Service) updateProfile(userID, key string, value json.RawMessage, remove bool) error {
	local, err := s.localpart(userID)
	if err != nil {
		return err
	}
	return s.db.Update(func(txn *badger.Txn) error {
		if _, err := loadAccount(txn, local); err != nil {
			return err
		}
		obj, err := readProfile(txn, local)
		if err != nil {
			return err
		}
		if remove {
			delete(obj, key)
		} else {
			obj[key] = value
		}
		return writeProfile(txn, local, obj)
	})
}
