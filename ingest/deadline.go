package ingest

import (
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// deadlineConn gives every read and write a deadline, because go-imap's
// client takes no context: a server that stops answering would otherwise
// block a command forever. The client's reader goroutine always sits in a
// Read, so an expired deadline means the server went silent, or that the
// connection was left quiet longer than the deadline (between polls, or
// while idling): extend sets a longer deadline for those waits.
//
// It also counts round trips: a read that returns data after a write was
// made is the server answering, however many commands were pipelined.
type deadlineConn struct {
	net.Conn
	timeout    atomic.Int64 // nanoseconds
	wrote      atomic.Bool
	roundTrips *atomic.Int64
	// timedOut keeps the first timeout: go-imap's decoder reads again
	// after an error, and each read would wait the whole timeout anew.
	timedOut atomic.Pointer[error]
	// While corked, writes are gathered and go out as one on uncork:
	// pipelined commands then reach the server together, so it cannot
	// answer the first before the last is sent.
	mu     sync.Mutex
	corked bool
	held   []byte
}

func newDeadlineConn(c net.Conn, timeout time.Duration, roundTrips *atomic.Int64) *deadlineConn {
	d := &deadlineConn{Conn: c, roundTrips: roundTrips}
	d.timeout.Store(int64(timeout))
	return d
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.timedOut.Load(); err != nil {
		return 0, *err
	}
	c.Conn.SetReadDeadline(time.Now().Add(time.Duration(c.timeout.Load())))
	n, err := c.Conn.Read(p)
	if n > 0 && c.wrote.Swap(false) && c.roundTrips != nil {
		c.roundTrips.Add(1)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		c.timedOut.CompareAndSwap(nil, &err)
	}
	return n, err
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.corked {
		c.held = append(c.held, p...)
		c.mu.Unlock()
		return len(p), nil
	}
	c.mu.Unlock()
	c.Conn.SetWriteDeadline(time.Now().Add(time.Duration(c.timeout.Load())))
	c.wrote.Store(true)
	return c.Conn.Write(p)
}

// cork holds writes until uncork. Only for commands that need no answer
// before they are complete (no synchronizing literal), or they would wait
// for the server forever.
func (c *deadlineConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held, in one write.
func (c *deadlineConn) uncork() error {
	c.mu.Lock()
	held := c.held
	c.corked, c.held = false, nil
	c.mu.Unlock()
	if len(held) == 0 {
		return nil
	}
	_, err := c.Write(held)
	return err
}

// setTimeout changes the deadline of every read and write from now on,
// including the read in progress.
func (c *deadlineConn) setTimeout(d time.Duration) {
	c.timeout.Store(int64(d))
	c.Conn.SetReadDeadline(time.Now().Add(d))
}

// failure explains an error met on a session: once the connection timed
// out, that is the cause, whatever go-imap's decoder reported after it.
func (sess *session) failure(err error) error {
	if err == nil || sess == nil || sess.conn == nil {
		return err
	}
	if sess.conn.timedOut.Load() != nil {
		return &TemporaryError{fmt.Errorf("the server stopped answering (nothing for %v): %w",
			time.Duration(sess.conn.timeout.Load()), err), KindTimeout}
	}
	return err
}
