package main

import (
	"bufio"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countingProxy forwards IMAP connections to a server and counts what the
// client asks: connections, command lines (a client that sends no
// literals, as mailtrail's sync does not, sends one line per command) and
// the bytes the server sends back.
type countingProxy struct {
	ln       net.Listener
	addr     string
	target   string
	conns    atomic.Int64
	commands atomic.Int64
	down     atomic.Int64
	mu       sync.Mutex
	verbs    map[string]int
	wg       sync.WaitGroup
}

func newCountingProxy(t testing.TB, target string) *countingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ln: ln, addr: ln.Addr().String(), target: target, verbs: map[string]int{}}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.conns.Add(1)
			p.wg.Go(func() { p.serve(c) })
		}
	})
	return p
}

func (p *countingProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	var done sync.WaitGroup
	done.Go(func() {
		n, _ := io.Copy(c, s)
		p.down.Add(n)
		c.Close()
	})
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if len(line) > 0 {
			p.commands.Add(1)
			if f := strings.Fields(line); len(f) > 1 {
				verb := strings.ToUpper(f[1])
				if verb == "UID" && len(f) > 2 {
					verb += " " + strings.ToUpper(f[2])
				}
				p.mu.Lock()
				p.verbs[verb]++
				p.mu.Unlock()
			}
			if _, err := s.Write([]byte(line)); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.Close()
	done.Wait()
}

func (p *countingProxy) byVerb() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for k, v := range p.verbs {
		out[k] = v
	}
	return out
}

func (p *countingProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

// reset forgets the commands counted by verb.
func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.verbs = map[string]int{}
}
