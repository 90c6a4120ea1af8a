package clientapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	hsync "hearth/services/sync"
)

func (a *API) routesSync() {
	if a.opts.Sync == nil {
		return
	}
	a.client("GET", "/sync", a.authed(a.sync))
	if a.opts.Users != nil {
		a.client("POST", "/user/{userId}/filter", a.authed(a.putFilter))
		a.client("GET", "/user/{userId}/filter/{filterId}", a.authed(a.getFilter))
	}
}

func (a *API) sync(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	q := r.URL.Query()
	req := hsync.Request{UserID: c.UserID, DeviceID: c.DeviceID, Since: q.Get("since"), SetPresence: q.Get("set_presence")}
	switch q.Get("full_state") {
	case "", "false":
	case "true":
		req.FullState = true
	default:
		return errInvalidParam("full_state must be true or false")
	}
	if s := q.Get("timeout"); s != "" {
		ms, err := strconv.ParseInt(s, 10, 64)
		if err != nil || ms < 0 {
			return errInvalidParam("timeout must be a non-negative integer")
		}
		req.Timeout = time.Duration(min(ms, int64(time.Hour/time.Millisecond))) * time.Millisecond
	}
	if f := q.Get("filter"); f != "" {
		raw := []byte(f)
		if !strings.HasPrefix(strings.TrimSpace(f), "{") {
			if a.opts.Users == nil {
				return errNotFound("Unknown filter")
			}
			stored, err := a.opts.Users.Filter(c.UserID, f)
			if err != nil {
				return userErr(err)
			}
			raw = stored
		}
		filter, err := hsync.ParseFilter(raw)
		if err != nil {
			return Errf(http.StatusBadRequest, "M_BAD_JSON", "%v", err)
		}
		req.Filter = filter
	}
	if req.Timeout > 0 {
		// Bounded long polls: when all slots are taken the request answers
		// at once with whatever is new, and the client simply asks again.
		select {
		case a.longPolls <- struct{}{}:
			defer func() { <-a.longPolls }()
		default:
			req.Timeout = 0
		}
	}
	resp, err := a.opts.Sync.Sync(r.Context(), req)
	switch {
	case errors.Is(err, hsync.ErrBadToken), errors.Is(err, hsync.ErrBadParam):
		return errInvalidParam("%v", err)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (a *API) putFilter(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot create filters for other users")
	}
	data, err := a.readBody(r)
	if err != nil {
		return err
	}
	if _, err := hsync.ParseFilter(data); err != nil {
		return Errf(http.StatusBadRequest, "M_BAD_JSON", "%v", err)
	}
	id, err := a.opts.Users.PutFilter(c.UserID, data)
	if err != nil {
		return userErr(err)
	}
	writeJSON(w, http.StatusOK, map[string]string{"filter_id": id})
	return nil
}

func (a *API) getFilter(w http.ResponseWriter, r *http.Request) error {
	c := CallerOf(r)
	if r.PathValue("userId") != c.UserID {
		return errForbidden("Cannot read filters of other users")
	}
	raw, err := a.opts.Users.Filter(c.UserID, r.PathValue("filterId"))
	if err != nil {
		return userErr(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(raw)
	return nil
}
