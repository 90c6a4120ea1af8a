package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress shows how far a long phase is: a redrawn bar on a terminal, a
// plain line every few seconds otherwise. A nil *Progress does nothing.
type Progress struct {
	w     io.Writer
	tty   bool
	label string
	total int64
	done  atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

// isTerminal reports whether w is a character device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// NewProgress starts showing a phase of total steps on w (nil: silent).
func NewProgress(w io.Writer, label string, total int) *Progress {
	if w == nil {
		return nil
	}
	p := &Progress{w: w, tty: isTerminal(w), label: label, total: int64(total), start: time.Now(), stop: make(chan struct{})}
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	} else {
		fmt.Fprintf(w, "%s: %d steps\n", label, total)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
	return p
}

// Add records n more steps done.
func (p *Progress) Add(n int) {
	if p != nil {
		p.done.Add(int64(n))
	}
}

// Done stops the display with a final line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.draw(true)
}

func (p *Progress) draw(final bool) {
	d, t := p.done.Load(), p.total
	el := time.Since(p.start).Round(100 * time.Millisecond)
	frac := 0.0
	if t > 0 {
		frac = min(float64(d)/float64(t), 1)
	}
	if !p.tty {
		state := ""
		if final {
			state = " done"
		}
		fmt.Fprintf(p.w, "%s: %d/%d (%.0f%%) %v%s\n", p.label, d, t, frac*100, el, state)
		return
	}
	const width = 30
	n := int(frac * width)
	bar := strings.Repeat("#", n) + strings.Repeat(".", width-n)
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r%-28s [%s] %d/%d %v   %s", p.label, bar, d, t, el, end)
}
