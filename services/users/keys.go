package users

import (
	"encoding/binary"

	"hearth/services/storage"
)

// Key builders; the layout is documented in doc.go.

const sep = 0x00

// Sub-kinds under PrefixUserAccountData. They sit where a localpart would
// otherwise start and are not localpart characters.
const (
	adStream = 's'
	adCount  = 'n'
	adItem   = 'd'
	adLog    = 'l'
)

func accountKey(local string) []byte {
	return storage.Key(storage.PrefixUserAccount, []byte(local))
}

func devicePrefix(local string) []byte {
	return storage.Key(storage.PrefixUserDevice, []byte(local), []byte{sep})
}

func deviceKey(local, device string) []byte {
	return storage.Key(storage.PrefixUserDevice, []byte(local), []byte{sep}, []byte(device))
}

func accessKey(h tokenHash) []byte { return storage.Key(storage.PrefixUserAccessToken, h[:]) }

func refreshKey(h tokenHash) []byte { return storage.Key(storage.PrefixUserRefresh, h[:]) }

func regTokenKey(token string) []byte {
	return storage.Key(storage.PrefixUserRegToken, []byte(token))
}

func regTokenPrefix() []byte { return storage.Key(storage.PrefixUserRegToken) }

func profileKey(local string) []byte {
	return storage.Key(storage.PrefixUserProfile, []byte(local))
}

func adStreamKey() []byte { return storage.Key(storage.PrefixUserAccountData, []byte{adStream}) }

func adCountKey(local string) []byte {
	return storage.Key(storage.PrefixUserAccountData, []byte{adCount}, []byte(local), []byte{sep})
}

func adItemPrefix(local string) []byte {
	return storage.Key(storage.PrefixUserAccountData, []byte{adItem}, []byte(local), []byte{sep})
}

func adItemKey(local, room, typ string) []byte {
	return storage.Key(storage.PrefixUserAccountData, []byte{adItem}, []byte(local), []byte{sep},
		[]byte(room), []byte{sep}, []byte(typ))
}

func adLogPrefix(local string) []byte {
	return storage.Key(storage.PrefixUserAccountData, []byte{adLog}, []byte(local), []byte{sep})
}

func adLogKey(local string, pos uint64) []byte {
	return storage.Key(storage.PrefixUserAccountData, []byte{adLog}, []byte(local), []byte{sep}, be64(pos))
}

func filterPrefix(local string) []byte {
	return storage.Key(storage.PrefixUserFilter, []byte(local), []byte{sep})
}

func filterKey(local, id string) []byte {
	return storage.Key(storage.PrefixUserFilter, []byte(local), []byte{sep}, []byte(id))
}

func be64(v uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return b[:]
}
