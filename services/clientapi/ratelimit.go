package clientapi

import (
	"net/http"
	"sync"
	"time"
)

// limiter is a token bucket per key (a user ID or a client IP). It holds at
// most maxKeys buckets; when full, buckets that have refilled are dropped
// first (they carry no information).
type limiter struct {
	mu      sync.Mutex
	rate    float64 // tokens per second
	burst   float64
	now     func() time.Time
	buckets map[string]*bucket
	maxKeys int
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: now, buckets: map[string]*bucket{}, maxKeys: 100000}
}

// allow takes a token for key, or returns how long to wait for one.
func (l *limiter) allow(key string) (bool, time.Duration) {
	if l == nil || l.rate <= 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			l.evict(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens += now.Sub(b.last).Seconds() * l.rate
	if b.tokens > l.burst {
		b.tokens = l.burst
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
	return false, wait
}

func (l *limiter) evict(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.maxKeys { // everyone is busy: drop arbitrary half
		n := 0
		for k := range l.buckets {
			delete(l.buckets, k)
			if n++; n >= l.maxKeys/2 {
				break
			}
		}
	}
}

// limitExceeded is the Matrix error for a refused request.
func limitExceeded(wait time.Duration) *Error {
	ms := wait.Milliseconds() + 1
	return &Error{Status: http.StatusTooManyRequests, Code: "M_LIMIT_EXCEEDED", Msg: "Too many requests",
		Extra: map[string]any{"retry_after_ms": ms}}
}
