package transport

import (
	"container/list"
	"net/http"
	"sync"
)

// transportPool keeps one *http.Transport per Route, so each route has its
// own connection pool and TLS name, up to max routes. The least recently
// used route is evicted when a new one would go past max; its idle
// connections are closed, and connections still serving a request close
// once they have been idle for the transport's IdleConnTimeout.
type transportPool struct {
	max          int
	newTransport func(Route) *http.Transport

	mu      sync.Mutex
	byRoute map[Route]*list.Element // values are *poolEntry
	order   list.List               // front is the most recently used
}

type poolEntry struct {
	route Route
	t     *http.Transport
}

func newTransportPool(max int, newTransport func(Route) *http.Transport) *transportPool {
	return &transportPool{max: max, newTransport: newTransport, byRoute: make(map[Route]*list.Element)}
}

// get returns the route's transport, making it if needed.
func (p *transportPool) get(r Route) *http.Transport {
	p.mu.Lock()
	if el, ok := p.byRoute[r]; ok {
		p.order.MoveToFront(el)
		p.mu.Unlock()
		return el.Value.(*poolEntry).t
	}
	t := p.newTransport(r)
	p.byRoute[r] = p.order.PushFront(&poolEntry{route: r, t: t})
	var evicted *http.Transport
	if p.order.Len() > p.max {
		last := p.order.Remove(p.order.Back()).(*poolEntry)
		delete(p.byRoute, last.route)
		evicted = last.t
	}
	p.mu.Unlock()
	if evicted != nil {
		evicted.CloseIdleConnections()
	}
	return t
}

// closeIdle closes the idle connections of every route.
func (p *transportPool) closeIdle() {
	p.mu.Lock()
	ts := make([]*http.Transport, 0, p.order.Len())
	for el := p.order.Front(); el != nil; el = el.Next() {
		ts = append(ts, el.Value.(*poolEntry).t)
	}
	p.mu.Unlock()
	for _, t := range ts {
		t.CloseIdleConnections()
	}
}

// len returns the number of routes held.
func (p *transportPool) len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.order.Len()
}
