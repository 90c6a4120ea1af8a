package federation

import (
	"log/slog"
	"net/http"
)

// handlerFunc is an endpoint: it writes a success itself and returns any
// failure for the router to write as a Matrix error.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// router wraps a ServeMux so that unknown paths are 404 M_UNRECOGNIZED and
// known paths with another method 405 M_UNRECOGNIZED, as the spec asks.
type router struct {
	mux *http.ServeMux
	log *slog.Logger
}

func newRouter(log *slog.Logger) *router { return &router{mux: http.NewServeMux(), log: log} }

func (rt *router) handle(pattern string, h handlerFunc) {
	rt.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			if _, ok := err.(*Error); !ok {
				rt.log.Error("federation request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, err)
		}
	})
}

var probeMethods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete}

func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := rt.mux.Handler(r); pattern == "" {
		status := http.StatusNotFound
		for _, m := range probeMethods {
			if m == r.Method {
				continue
			}
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, p := rt.mux.Handler(probe); p != "" {
				status = http.StatusMethodNotAllowed
				break
			}
		}
		writeError(w, errf(status, "M_UNRECOGNIZED", "unrecognized request"))
		return
	}
	rt.mux.ServeHTTP(w, r)
}
