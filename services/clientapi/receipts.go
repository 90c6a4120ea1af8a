package clientapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"hearth/services/ephemeral"
	"hearth/services/matrix/ids"
	"hearth/services/roomserver"
)

const typeFullyRead = "m.fully_read"

func (a *API) postReceipt(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	typ, eventID := r.PathValue("receiptType"), r.PathValue("eventId")
	if typ != ephemeral.Read && typ != ephemeral.ReadPrivate && typ != typeFullyRead {
		return errInvalidParam("Unknown receipt type %q", typ)
	}
	body, err := a.readJSONObject(r)
	if err != nil {
		return err
	}
	thread := ""
	if raw, ok := body["thread_id"]; ok {
		if err := json.Unmarshal(raw, &thread); err != nil || thread == "" {
			return errInvalidParam("thread_id field must be a non-empty string")
		}
		if typ == typeFullyRead {
			return errInvalidParam("thread_id cannot be used with %s", typeFullyRead)
		}
	}
	room, err := a.joinedRoom(r.Context(), r)
	if err != nil {
		return err
	}
	if err := a.checkReceiptEvent(r.Context(), room, eventID, thread); err != nil {
		return err
	}
	if typ == typeFullyRead {
		err = a.setFullyRead(c.UserID, room, eventID)
	} else {
		err = a.putReceipt(r.Context(), room, typ, c.UserID, eventID, thread)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

func (a *API) postReadMarkers(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	var body struct {
		FullyRead   *string `json:"m.fully_read"`
		Read        *string `json:"m.read"`
		ReadPrivate *string `json:"m.read.private"`
	}
	if err := a.readInto(r, &body); err != nil {
		return err
	}
	room, err := a.joinedRoom(r.Context(), r)
	if err != nil {
		return err
	}
	// Check every event first, so that nothing is stored on a bad request.
	for _, id := range []*string{body.FullyRead, body.Read, body.ReadPrivate} {
		if id != nil {
			if err := a.checkReceiptEvent(r.Context(), room, *id, ""); err != nil {
				return err
			}
		}
	}
	if body.FullyRead != nil {
		if err := a.setFullyRead(c.UserID, room, *body.FullyRead); err != nil {
			return err
		}
	}
	if body.Read != nil {
		if err := a.putReceipt(r.Context(), room, ephemeral.Read, c.UserID, *body.Read, ""); err != nil {
			return err
		}
	}
	if body.ReadPrivate != nil {
		if err := a.putReceipt(r.Context(), room, ephemeral.ReadPrivate, c.UserID, *body.ReadPrivate, ""); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
	return nil
}

// checkReceiptEvent checks that eventID is an event of room (404 if not)
// and that thread ("" when unthreaded) fits it: "main" or an event ID, and
// an event that is in a thread only under that thread.
func (a *API) checkReceiptEvent(ctx context.Context, room, eventID, thread string) error {
	if _, err := ids.ParseEventID(eventID); err != nil {
		return errInvalidParam("Invalid event ID: %v", err)
	}
	if thread != "" && thread != "main" {
		if _, err := ids.ParseEventID(thread); err != nil {
			return errInvalidParam("thread_id must be \"main\" or an event ID")
		}
	}
	ev, _, err := a.opts.Rooms.EventByID(ctx, eventID)
	if errors.Is(err, roomserver.ErrNotFound) || (err == nil && ev.RoomID() != room) {
		return errNotFound("Event not found in this room")
	}
	if err != nil {
		return roomErr(err)
	}
	if thread == "" {
		return nil
	}
	rel := ev.Content().Get("m.relates_to")
	inThread := ""
	if rel.Get("rel_type").StrOr("") == "m.thread" {
		inThread = rel.Get("event_id").StrOr("")
	}
	switch {
	case thread == "main" && inThread != "":
		return errInvalidParam("The event is in thread %s, not the main timeline", inThread)
	case thread != "main" && inThread != thread && eventID != thread:
		return errInvalidParam("The event is not in thread %s", thread)
	}
	return nil
}

func (a *API) putReceipt(ctx context.Context, room, typ, user, eventID, thread string) error {
	_, err := a.opts.Ephemeral.PutReceipt(ctx, room, typ, user, eventID, thread)
	if errors.Is(err, ephemeral.ErrInvalid) {
		return errInvalidParam("%v", err)
	}
	if err == nil && typ == ephemeral.Read && a.opts.Federation != nil {
		a.opts.Federation.Receipt(ctx, room, user, eventID, thread)
	}
	return err
}

// setFullyRead moves the user's fully read marker: room account data of
// type m.fully_read, {"event_id": …}.
func (a *API) setFullyRead(user, room, eventID string) error {
	if a.opts.Users == nil {
		return Errf(http.StatusNotImplemented, "M_UNRECOGNIZED", "Read markers are not available")
	}
	content, _ := json.Marshal(map[string]string{"event_id": eventID})
	if _, err := a.opts.Users.SetAccountData(user, room, typeFullyRead, content); err != nil {
		return userErr(err)
	}
	return nil
}
