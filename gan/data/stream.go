package data

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrStreamClosed is returned by Stream.Next after Close.
var ErrStreamClosed = errors.New("data: stream closed")

// streamAhead is how many finished batches a stream keeps ready; one more
// is being produced and one is held by the caller.
const streamAhead = 2

// Stream delivers batches produced ahead of time by a background goroutine.
// Its methods are not safe for concurrent use, except Close.
type Stream struct {
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	done   chan struct{}
	ready  chan streamItem
	free   chan []float32
	cur    []float32 // the batch the caller holds
	err    error     // sticky production error
}

type streamItem struct {
	buf []float32
	err error
}

// Stream produces batches k = start, start+1, ... in a background
// goroutine (up to three ahead), batch k being Batch(dst, n, opts,
// Mix(base, k)). Next returns them in order. Call Close when done.
func (d *Dataset) Stream(ctx context.Context, n int, opts CropOptions, base uint64, start uint64) *Stream {
	inner, cancel := context.WithCancel(ctx)
	s := &Stream{
		parent: ctx,
		ctx:    inner,
		cancel: cancel,
		done:   make(chan struct{}),
		ready:  make(chan streamItem, streamAhead),
		free:   make(chan []float32, streamAhead+2),
	}
	size := 0
	if _, _, err := opts.validate(); err == nil && n > 0 {
		size = n * 3 * opts.Res * opts.Res
	} // else the first batch reports the error
	for range streamAhead + 2 {
		s.free <- make([]float32, size)
	}
	go s.produce(d, n, opts, base, start)
	return s
}

func (s *Stream) produce(d *Dataset, n int, opts CropOptions, base, k uint64) {
	defer close(s.done)
	var rs resampler
	for ; ; k++ {
		var buf []float32
		select {
		case buf = <-s.free:
		case <-s.ctx.Done():
			return
		}
		err := d.batch(buf, n, opts, Mix(base, k), &rs)
		select {
		case s.ready <- streamItem{buf, err}:
		case <-s.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Next returns the next batch, blocking until it is ready. The returned
// slice is owned by the stream: it stays valid until the next call to Next
// or Close, after which it is reused (copy it to keep it). Next returns
// ErrStreamClosed after Close, ctx.Err() once the stream's context is
// cancelled, and the batch error if the options are invalid.
func (s *Stream) Next() ([]float32, error) {
	if s.cur != nil {
		s.free <- s.cur // never blocks: free has room for every buffer
		s.cur = nil
	}
	if err := s.stopped(); err != nil {
		return nil, err
	}
	select {
	case it := <-s.ready:
		if it.err != nil {
			s.err = it.err
			return nil, it.err
		}
		s.cur = it.buf
		return it.buf, nil
	case <-s.ctx.Done():
		return nil, s.stopped()
	}
}

// stopped returns why the stream cannot deliver, or nil.
func (s *Stream) stopped() error {
	switch {
	case s.closed.Load():
		return ErrStreamClosed
	case s.err != nil:
		return s.err
	case s.parent.Err() != nil:
		return s.parent.Err()
	}
	return s.ctx.Err()
}

// Close stops the background goroutine and waits for it. It is safe to
// call more than once.
func (s *Stream) Close() {
	s.closed.Store(true)
	s.cancel()
	<-s.done
}
