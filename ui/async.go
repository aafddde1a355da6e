package ui

import "sync"

// latest runs fn on the most recent value submitted, one at a time, in a background goroutine:
// values submitted while fn runs replace each other, and only the last one runs next. It keeps
// slow work (rendering a preview, exporting) off the UI goroutine without queueing stale work.
type latest[T any] struct {
	mu      sync.Mutex
	pending *T
	busy    bool
	fn      func(T)
}

func (l *latest[T]) submit(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = &v
	if !l.busy {
		l.busy = true
		go l.loop()
	}
}

func (l *latest[T]) loop() {
	for {
		l.mu.Lock()
		v := l.pending
		l.pending = nil
		if v == nil {
			l.busy = false
			l.mu.Unlock()
			return
		}
		l.mu.Unlock()
		l.fn(*v)
	}
}

// running reports whether work is queued or running.
func (l *latest[T]) running() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.busy
}
