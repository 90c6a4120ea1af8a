package roomserver

import "sync"

// sequence hands out event positions and tracks the watermark: the highest
// position P such that every position ≤ P has finished (committed or
// abandoned). Readers never look past the watermark, so a slow commit of
// position 4 cannot be skipped by a reader that has already seen 5.
type sequence struct {
	mu      sync.Mutex
	next    uint64            // next position to hand out
	mark    uint64            // watermark
	done    map[uint64]bool   // finished positions above mark
	skipped map[uint64]uint64 // first → last of ranges reserved and left empty
}

func newSequence(last uint64) *sequence {
	return &sequence{next: last + 1, mark: last, done: map[uint64]bool{}, skipped: map[uint64]uint64{}}
}

// take reserves the next position.
func (s *sequence) take() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.next
	s.next++
	return p
}

// finish marks a position finished and returns the (possibly advanced)
// watermark and whether it moved.
func (s *sequence) finish(p uint64) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p <= s.mark {
		return s.mark, false
	}
	s.done[p] = true
	return s.advance()
}

func (s *sequence) advance() (uint64, bool) {
	moved := false
	for {
		if last, ok := s.skipped[s.mark+1]; ok {
			delete(s.skipped, s.mark+1)
			s.mark = last
			moved = true
			continue
		}
		if !s.done[s.mark+1] {
			return s.mark, moved
		}
		delete(s.done, s.mark+1)
		s.mark++
		moved = true
	}
}

// skip reserves n positions that stay empty (room below an imported
// room's join for backfilled history) and returns the first.
func (s *sequence) skip(n uint64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.next
	s.next += n
	s.skipped[first] = first + n - 1
	s.advance()
	return first
}

// watermark returns the current watermark.
func (s *sequence) watermark() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mark
}
