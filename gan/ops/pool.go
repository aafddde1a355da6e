package ops

import (
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Lanes is the fixed number of partial accumulators used by reductions (weight and bias
// gradients). Each lane sums a fixed contiguous range of items in order, and the lanes are
// added in order, so results are bit-identical whatever the number of workers.
const Lanes = 4

// Pool runs data-parallel kernels on a fixed set of worker goroutines, each locked to its own OS
// thread (so its scheduling priority can be lowered) and owning a scratch buffer that kernels reuse
// across calls. One job runs at a time; kernels must not call Parallel recursively.
type Pool struct {
	mu      sync.Mutex
	work    []chan func(worker int)
	done    chan struct{}
	scratch [][scratchSlots][]float32
}

const scratchSlots = 4

// NewPool starts a pool of n workers (n < 1 means one per CPU).
func NewPool(n int) *Pool {
	if n < 1 {
		n = runtime.NumCPU()
	}
	p := &Pool{work: make([]chan func(int), n), done: make(chan struct{}, n), scratch: make([][scratchSlots][]float32, n)}
	for w := range p.work {
		p.work[w] = make(chan func(int))
		go p.loop(w)
	}
	return p
}

func (p *Pool) loop(w int) {
	runtime.LockOSThread()
	for fn := range p.work[w] {
		fn(w)
		p.done <- struct{}{}
	}
}

// Workers reports the number of worker goroutines.
func (p *Pool) Workers() int { return len(p.work) }

var defaultPool = NewPool(0)

// DefaultPool is the pool every op uses.
func DefaultPool() *Pool { return defaultPool }

// SetBackground puts the pool's worker threads in the background: the idle scheduling class
// (SCHED_IDLE) where available, else niceness 19. An interactive UI on the same machine then
// preempts training as soon as it has work, instead of waiting for the scheduler to rebalance,
// which keeps frame times low on two cores. It returns the first error met.
func (p *Pool) SetBackground() error {
	return p.onEachWorker(func() error {
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}, 0); err == nil {
			return nil
		}
		return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), 19)
	})
}

// SetNice sets the scheduling niceness (0..19) of the pool's worker threads, so that training
// yields the CPU to an interactive UI on the same machine. It returns the first error met.
func (p *Pool) SetNice(nice int) error {
	return p.onEachWorker(func() error { return syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice) })
}

// onEachWorker runs fn once on each worker's thread.
func (p *Pool) onEachWorker(fn func() error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := make([]error, len(p.work))
	for w := range p.work {
		w := w
		p.work[w] <- func(int) { errs[w] = fn() }
	}
	for range p.work {
		<-p.done
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Parallel splits [0,n) into parts contiguous ranges (part j gets [j*n/parts, (j+1)*n/parts)) and
// runs fn(worker, part, lo, hi) for each non-empty one. Parts are handed out one at a time to
// whichever worker is free, so on a shared CPU a job does not wait for a slowed-down worker's
// fixed share; fn's results must therefore not depend on which worker runs a part (workers differ
// only in their scratch buffers). It returns when all parts are done.
func (p *Pool) Parallel(n, parts int, fn func(worker, part, lo, hi int)) {
	p.parallel(n, parts, false, fn)
}

// Serial runs the same parts as Parallel, in order, on the calling thread (for jobs too small to
// be worth waking the workers; the parts, and so any reduction over them, are the same).
func (p *Pool) Serial(n, parts int, fn func(worker, part, lo, hi int)) {
	p.parallel(n, parts, true, fn)
}

func (p *Pool) parallel(n, parts int, serial bool, fn func(worker, part, lo, hi int)) {
	if parts > n {
		parts = n
	}
	if parts < 1 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	nw := len(p.work)
	if parts == 1 || nw == 1 || serial {
		for j := 0; j < parts; j++ {
			fn(0, j, j*n/parts, (j+1)*n/parts)
		}
		return
	}
	used := min(nw, parts)
	var next atomic.Int64
	for w := 0; w < used; w++ {
		p.work[w] <- func(w int) {
			for {
				j := int(next.Add(1) - 1)
				if j >= parts {
					return
				}
				fn(w, j, j*n/parts, (j+1)*n/parts)
			}
		}
	}
	for w := 0; w < used; w++ {
		<-p.done
	}
}

// Dynamic runs fn(worker, i) for every i in [0, n) as n parts of Parallel (on the calling thread
// if serial).
func (p *Pool) Dynamic(n int, serial bool, fn func(worker, i int)) {
	p.parallel(n, n, serial, func(w, i, _, _ int) { fn(w, i) })
}

// Scratch returns worker w's scratch buffer number slot (0..3) with at least n elements. Only
// valid inside a Parallel callback running on worker w; the contents are undefined.
func (p *Pool) Scratch(w, slot, n int) []float32 {
	if cap(p.scratch[w][slot]) < n {
		p.scratch[w][slot] = make([]float32, n)
	}
	return p.scratch[w][slot][:n]
}

// ParallelFor runs fn over [0, n) split into one contiguous range per worker of the default pool
// (serially when n is small). For element-wise work outside graphs, such as optimiser updates.
func ParallelFor(n int, fn func(lo, hi int)) {
	if n < 1<<15 {
		fn(0, n)
		return
	}
	p := DefaultPool()
	p.Parallel(n, p.Workers(), func(_, _, lo, hi int) { fn(lo, hi) })
}
