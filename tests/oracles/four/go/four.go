// tests/oracles/four/go/four.go: the five programs in Go (standard library
// only). Each section prints a trace; four.expected holds it. The C++ twin
// is tests/oracles/four/twins/go_twin.cc (a thread per goroutine).
//
// Goroutines run in parallel, and Go promises no order between lines that
// two goroutines print unless a channel orders them. So every line below is
// ordered by a channel operation; where the real order is unspecified (the
// arrival order of results), the program prints what is determined and says
// so, rather than a trace that only happens to repeat.
package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
)

func p(s string) { fmt.Println(s) }

// 1. `go f()` is Go's call that is not waited for. main prints nothing until
// f has sent: a line printed right after the go statement would race with f.
// [START f]
func f(out chan<- int) {
	p("f: start")
	runtime.Gosched()
	p("f: after yield")
	out <- 1
}

// [END f]

func one() {
	p("== 1 unawaited call")
	p("main: go f()")
	out := make(chan int)
	go f(out)
	v := <-out
	p(fmt.Sprintf("main: got %d", v))
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
func op(name string, ev <-chan struct{}, done chan<- string) {
	<-ev
	done <- name
}

func two() {
	p("== 2 fan out and join")
	ev := map[string]chan struct{}{"A": make(chan struct{}), "B": make(chan struct{}), "C": make(chan struct{})}
	done := make(chan string)
	p("main: start ops")
	for _, n := range []string{"A", "B", "C"} {
		go op(n, ev[n], done)
	}
	for _, n := range []string{"B", "C", "A"} {
		p("main: fire " + n)
		close(ev[n])
	}
	got := []string{<-done, <-done, <-done}
	sort.Strings(got)
	p("main: joined " + strings.Join(got, " ") + " (arrival order unspecified)")
}

// 3. Cancel a pending operation with a context.Context.
// [START cancel]
func cancellable(ctx context.Context, ready chan<- struct{}) int {
	defer p("op: deferred cleanup")
	p("op: start")
	ready <- struct{}{}
	<-ctx.Done()
	p("op: ctx.Done(): " + ctx.Err().Error())
	return -1
}

// [END cancel]

func three() {
	p("== 3 cancel")
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	out := make(chan int)
	p("main: start op")
	go func() { out <- cancellable(ctx, ready) }()
	<-ready
	p("main: cancel")
	cancel()
	v := <-out
	p(fmt.Sprintf("main: got %d", v))
}

// 4. One of three concurrent operations panics. A panic that leaves a
// goroutine ends the whole program, so each op recovers in its own
// goroutine and reports an error value. B's event fires first.
type result struct {
	name string
	err  error
}

func mayFail(name string, ev <-chan struct{}, fail bool, out chan<- result) {
	defer func() {
		if r := recover(); r != nil {
			out <- result{name, fmt.Errorf("%v", r)}
		}
	}()
	<-ev
	if fail {
		panic(name + " failed")
	}
	out <- result{name, nil}
}

func four() {
	p("== 4 one of three fails")
	ev := map[string]chan struct{}{"A": make(chan struct{}), "B": make(chan struct{}), "C": make(chan struct{})}
	out := make(chan result)
	p("main: start ops")
	for _, n := range []string{"A", "B", "C"} {
		go mayFail(n, ev[n], n == "B", out)
	}
	p("main: fire B")
	close(ev["B"])
	r := <-out
	p("main: first result: " + r.name + " error: " + r.err.Error())
	p("main: fire A")
	close(ev["A"])
	p("main: fire C")
	close(ev["C"])
	var ok []string
	for i := 0; i < 2; i++ {
		if r := <-out; r.err == nil {
			ok = append(ok, r.name)
		} else {
			p("main: unexpected error " + r.err.Error())
		}
	}
	sort.Strings(ok)
	p("main: the others finished: " + strings.Join(ok, " "))
}

// 5. CPU-bound work in a goroutine: who is blocked. One P (GOMAXPROCS(1)),
// so tick can run while busy spins only because Go preempts busy.
var errUnlikely = errors.New("unlikely")

func five() {
	p("== 5 CPU-bound work")
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var stop atomic.Bool
	started := make(chan struct{})
	busyDone := make(chan struct{})
	tickDone := make(chan struct{})
	p("main: go busy()")
	// [START busy]
	go func() {
		p("busy: start")
		started <- struct{}{}
		x := uint64(1)
		for i := uint64(0); !stop.Load(); i++ {
			x = x*6364136223846793005 + i
		}
		if x == 0 {
			p(errUnlikely.Error())
		}
		p("busy: end (tick stopped it)")
		close(busyDone)
	}()
	// [END busy]
	<-started
	p("main: go tick() while busy spins")
	go func() {
		p("tick: runs")
		stop.Store(true)
		close(tickDone)
	}()
	<-tickDone
	<-busyDone
	p("main: both finished")
}

func main() {
	one()
	two()
	three()
	four()
	five()
}
