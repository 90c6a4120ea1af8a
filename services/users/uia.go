package users

import (
	"container/list"
	"encoding/base64"
	"fmt"
	"slices"
	"sync"
	"time"
)

// UIA keeps user-interactive authentication sessions (spec, "User-Interactive
// Authentication API"). Sessions live in memory only: they last minutes, and
// after a restart a client simply gets a fresh challenge. Their number is
// bounded (the oldest is dropped) and each expires a fixed time after Begin.
//
// How the client API drives an endpoint protected by UIA:
//
//  1. No "auth" in the body: sid := UIA().Begin(flows, params); Bind(sid,
//     op) where op names the request (method, path, the acting user, and
//     for /register the requested username), so a session completed for
//     one request cannot authorise another; answer 401 with Challenge(sid)
//     marshalled as the body: {"flows":[{"stages":[…]}],"params":{…},
//     "session":"…"} (plus "completed" once something is).
//  2. "auth" present: Bind(auth.session, op) (ErrForbidden if the request
//     changed; ErrUnknownSession: Begin anew and answer 401 with that
//     challenge), then run the stage: Service.AuthPassword,
//     Service.AuthDummy, Service.AuthRegistrationToken, or Complete for a
//     stage checked elsewhere. On an error answer 401 with Challenge(sid)
//     plus "errcode" and "error" (M_FORBIDDEN for ErrForbidden).
//  3. Done(sid) false: answer 401 with Challenge(sid) (now listing
//     "completed"). Done true: perform the request, then End(sid). For
//     /register pass the session in RegisterOpts.UIASession instead, which
//     consumes a reserved registration token with the account and ends the
//     session.
type UIA struct {
	cfg uiaConfig

	mu       sync.Mutex
	sessions map[string]*uiaSession
	order    list.List // of *uiaSession, oldest first (so also soonest to expire)
}

type uiaConfig struct {
	now     func() time.Time
	random  func(n int) ([]byte, error)
	ttl     time.Duration
	max     int
	release func(regToken string) // gives back a reserved registration token use
}

type uiaSession struct {
	id        string
	flows     [][]string
	params    map[string]any
	completed []string
	expires   time.Time
	op        string
	regToken  string // reserved by the registration token stage
	failures  int
	elem      *list.Element
}

// Limits on what a session holds.
const (
	maxUIAFlows       = 16
	maxUIAStages      = 16
	maxUIAStageName   = 128
	maxUIAOp          = 2048
	maxUIAFailures    = 10
	uiaSessionIDBytes = 18
)

// Challenge is the body of a UIA 401 response. Marshal it as is; the client
// API adds "errcode" and "error" when a stage failed.
type Challenge struct {
	Flows     []Flow         `json:"flows"`
	Params    map[string]any `json:"params"`
	Session   string         `json:"session"`
	Completed []string       `json:"completed,omitempty"`
}

// Flow is one way to authenticate: stages to complete in order.
type Flow struct {
	Stages []string `json:"stages"`
}

func newUIA(cfg uiaConfig) *UIA {
	return &UIA{cfg: cfg, sessions: make(map[string]*uiaSession)}
}

// Begin starts a session offering flows (each a list of stage types) with
// per-stage params (may be nil) and returns its ID.
func (u *UIA) Begin(flows [][]string, params map[string]any) (string, error) {
	if len(flows) == 0 || len(flows) > maxUIAFlows {
		return "", invalidParam("UIA needs 1–%d flows", maxUIAFlows)
	}
	fs := make([][]string, len(flows))
	for i, f := range flows {
		if len(f) == 0 || len(f) > maxUIAStages {
			return "", invalidParam("a UIA flow needs 1–%d stages", maxUIAStages)
		}
		for _, st := range f {
			if st == "" || len(st) > maxUIAStageName {
				return "", invalidParam("bad UIA stage name")
			}
		}
		fs[i] = slices.Clone(f)
	}
	b, err := u.cfg.random(uiaSessionIDBytes)
	if err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	if params == nil {
		params = map[string]any{}
	}
	var released []string
	u.mu.Lock()
	now := u.cfg.now()
	released = u.sweepLocked(now)
	for len(u.sessions) >= u.cfg.max {
		released = append(released, u.removeLocked(u.order.Front().Value.(*uiaSession)))
	}
	s := &uiaSession{id: id, flows: fs, params: params, expires: now.Add(u.cfg.ttl)}
	s.elem = u.order.PushBack(s)
	u.sessions[id] = s
	u.mu.Unlock()
	u.releaseAll(released)
	return id, nil
}

// sweepLocked removes expired sessions, returning their reserved tokens.
func (u *UIA) sweepLocked(now time.Time) []string {
	var released []string
	for e := u.order.Front(); e != nil; e = u.order.Front() {
		s := e.Value.(*uiaSession)
		if now.Before(s.expires) {
			break
		}
		released = append(released, u.removeLocked(s))
	}
	return released
}

func (u *UIA) removeLocked(s *uiaSession) string {
	u.order.Remove(s.elem)
	delete(u.sessions, s.id)
	return s.regToken
}

// releaseAll gives back reservations; called without u.mu held, since the
// release callback takes the service's registration token lock.
func (u *UIA) releaseAll(tokens []string) {
	for _, t := range tokens {
		if t != "" && u.cfg.release != nil {
			u.cfg.release(t)
		}
	}
}

// with runs fn on a live session under the lock, first sweeping out expired
// sessions.
func (u *UIA) with(id string, fn func(s *uiaSession) error) error {
	u.mu.Lock()
	released := u.sweepLocked(u.cfg.now())
	s, ok := u.sessions[id]
	var err error
	if !ok {
		err = ErrUnknownSession
	} else {
		err = fn(s)
	}
	u.mu.Unlock()
	u.releaseAll(released)
	return err
}

// withNoSweep is with for callers that hold the service's registration
// token lock: it releases nothing (which would take that lock again), and
// treats an expired session as gone without removing it.
func (u *UIA) withNoSweep(id string, fn func(s *uiaSession) error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.sessions[id]
	if !ok || !u.cfg.now().Before(s.expires) {
		return ErrUnknownSession
	}
	return fn(s)
}

// Bind ties a session to one request: the first call records op, later
// calls must pass the same op or get ErrForbidden.
func (u *UIA) Bind(id, op string) error {
	if len(op) > maxUIAOp {
		return tooLarge("UIA operation description")
	}
	return u.with(id, func(s *uiaSession) error {
		if s.op == "" {
			s.op = op
			return nil
		}
		if s.op != op {
			return fmt.Errorf("%w: the request changed during authentication", ErrForbidden)
		}
		return nil
	})
}

// checkNext reports whether stage is already completed (done) or, failing
// that, whether it may be completed next: it must follow the completed
// stages in some flow. Otherwise ErrForbidden.
func (u *UIA) checkNext(id, stage string) (done bool, err error) {
	err = u.with(id, func(s *uiaSession) error {
		if slices.Contains(s.completed, stage) {
			done = true
			return nil
		}
		return s.allows(stage)
	})
	return done, err
}

func (s *uiaSession) allows(stage string) error {
	n := len(s.completed)
	for _, f := range s.flows {
		if len(f) > n && slices.Equal(f[:n], s.completed) && f[n] == stage {
			return nil
		}
	}
	return fmt.Errorf("%w: stage %q is not the next stage of any flow", ErrForbidden, stage)
}

// Complete marks a stage done, after the caller verified it. Completing a
// completed stage again is a no-op; a stage that is not next in any flow
// gives ErrForbidden.
func (u *UIA) Complete(id, stage string) error {
	return u.with(id, func(s *uiaSession) error { return s.complete(stage) })
}

func (s *uiaSession) complete(stage string) error {
	if slices.Contains(s.completed, stage) {
		return nil
	}
	if err := s.allows(stage); err != nil {
		return err
	}
	s.completed = append(s.completed, stage)
	return nil
}

// Completed lists the stages completed so far, in order.
func (u *UIA) Completed(id string) ([]string, error) {
	var out []string
	err := u.with(id, func(s *uiaSession) error {
		out = slices.Clone(s.completed)
		return nil
	})
	return out, err
}

// Done reports whether every stage of some flow is complete.
func (u *UIA) Done(id string) (bool, error) {
	var done bool
	err := u.with(id, func(s *uiaSession) error {
		for _, f := range s.flows {
			if slices.Equal(f, s.completed) {
				done = true
			}
		}
		return nil
	})
	return done, err
}

// Challenge returns the 401 body for a session.
func (u *UIA) Challenge(id string) (Challenge, error) {
	var c Challenge
	err := u.with(id, func(s *uiaSession) error {
		c = Challenge{Params: s.params, Session: s.id, Completed: slices.Clone(s.completed)}
		for _, f := range s.flows {
			c.Flows = append(c.Flows, Flow{Stages: slices.Clone(f)})
		}
		return nil
	})
	return c, err
}

// End forgets a session, giving back any registration token use it
// reserved. Ending an unknown session is a no-op.
func (u *UIA) End(id string) {
	u.mu.Lock()
	var released []string
	if s, ok := u.sessions[id]; ok {
		released = append(released, u.removeLocked(s))
	}
	u.mu.Unlock()
	u.releaseAll(released)
}

// take removes a session without releasing its reservation, returning the
// registration token it held and whether it was still there.
func (u *UIA) take(id string) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.sessions[id]
	if !ok {
		return "", false
	}
	return u.removeLocked(s), true
}

// Len is the number of live sessions.
func (u *UIA) Len() int {
	u.mu.Lock()
	released := u.sweepLocked(u.cfg.now())
	n := len(u.sessions)
	u.mu.Unlock()
	u.releaseAll(released)
	return n
}

// failed counts a failed attempt at a stage; after too many the session is
// dropped, so one session cannot be used to guess passwords without end.
func (u *UIA) failed(id string) {
	var drop bool
	_ = u.with(id, func(s *uiaSession) error {
		s.failures++
		drop = s.failures >= maxUIAFailures
		return nil
	})
	if drop {
		u.End(id)
	}
}

// regTokenOf returns the registration token the session reserved, if any.
func (u *UIA) regTokenOf(id string) string {
	var t string
	_ = u.with(id, func(s *uiaSession) error {
		t = s.regToken
		return nil
	})
	return t
}
