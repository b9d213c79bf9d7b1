package ingest

import (
	"runtime"
	"sync"
)

// parallel calls fn(0) ... fn(n-1) on up to GOMAXPROCS goroutines and
// returns when all are done. Parsing dominates the pipeline's CPU time,
// and Prepare is pure, so a batch is prepared on every core.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
