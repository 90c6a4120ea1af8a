package roomserver

import (
	"context"
	"errors"
	"sort"
)

// DirectoryUser is a user the user directory may show, with the profile
// their membership event carries in one of the rooms they were found in.
type DirectoryUser struct {
	UserID      string
	DisplayName string
	AvatarURL   string
}

// Bounds of a user directory scan.
const (
	// MaxDirectoryRooms is how many rooms one scan reads: the searcher's
	// joined rooms first, then published rooms.
	MaxDirectoryRooms = 500
	// MaxDirectoryUsers is how many distinct users one scan collects.
	MaxDirectoryUsers = 20000
)

// DirectoryCandidates lists the users the user directory shows to searcher:
// the joined members of every room the searcher is joined to, and of every
// published room whose join rule is public. There is no separate directory
// index: the current state of those rooms is scanned, at most
// MaxDirectoryRooms rooms (the searcher's own first, each group in room ID
// order) and MaxDirectoryUsers users. Public rooms that are not published
// in the room directory are not scanned (that would mean reading every
// room). Each user's display name and avatar come from the first room (in
// that order) whose membership event has them.
func (s *Server) DirectoryCandidates(ctx context.Context, searcher string) ([]DirectoryUser, error) {
	mine, err := s.RoomsOf(ctx, searcher)
	if err != nil {
		return nil, err
	}
	var own []string
	for id, m := range mine {
		if m == "join" {
			own = append(own, id)
		}
	}
	sort.Strings(own)
	published, err := s.PublishedRooms(ctx)
	if err != nil {
		return nil, err
	}
	sort.Strings(published)

	seen := map[string]int{} // user → index in out
	var out []DirectoryUser
	scanned := map[string]bool{}
	scan := func(roomID string, needPublic bool) error {
		if scanned[roomID] || len(scanned) >= MaxDirectoryRooms {
			return nil
		}
		scanned[roomID] = true
		st, err := s.CurrentState(ctx, roomID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if needPublic && stateStr(st, "m.room.join_rules", "join_rule") != "public" {
			return nil
		}
		for k, ev := range st {
			if k.Type != "m.room.member" || ev.Membership() != "join" {
				continue
			}
			name, _ := ev.Content().Get("displayname").Str()
			avatar, _ := ev.Content().Get("avatar_url").Str()
			if i, ok := seen[k.StateKey]; ok {
				if out[i].DisplayName == "" {
					out[i].DisplayName = name
				}
				if out[i].AvatarURL == "" {
					out[i].AvatarURL = avatar
				}
				continue
			}
			if len(out) >= MaxDirectoryUsers {
				continue
			}
			seen[k.StateKey] = len(out)
			out = append(out, DirectoryUser{UserID: k.StateKey, DisplayName: name, AvatarURL: avatar})
		}
		return nil
	}
	for _, id := range own {
		if err := scan(id, false); err != nil {
			return nil, err
		}
	}
	for _, id := range published {
		if err := scan(id, true); err != nil {
			return nil, err
		}
	}
	return out, nil
}
