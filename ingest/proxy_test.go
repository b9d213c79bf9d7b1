package ingest_test

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
)

// Faults a proxy injects once, after the client sends the trigger.
const (
	faultStall = "stall" // forward `after` bytes of the answer, then nothing, the connection open
	faultCut   = "cut"   // forward `after` more bytes of the answer, then close (mid-literal)
	faultBye   = "bye"   // answer "* BYE" and close
)

// proxy forwards TCP connections to a server (Dovecot's plaintext port)
// and can break one of them the way real networks and servers do.
type proxy struct {
	addr   string
	target string

	mu      sync.Mutex
	fault   string
	trigger []byte
	after   int
	fired   chan struct{}
	conns   []net.Conn
	// accepted counts the connections made through the proxy.
	accepted int
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: ln.Addr().String(), target: target}
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

// arm sets the fault for the next time a client sends trigger.
func (p *proxy) arm(fault, trigger string, after int) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault, p.trigger, p.after = fault, []byte(trigger), after
	p.fired = make(chan struct{})
	return p.fired
}

func (p *proxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, client, server)
	p.accepted++
	p.mu.Unlock()
	armed := make(chan string, 1)
	go func() { // client to server, watching for the trigger
		buf := make([]byte, 32<<10)
		for {
			n, err := client.Read(buf)
			if n > 0 {
				p.mu.Lock()
				if p.fault != "" && bytes.Contains(buf[:n], p.trigger) {
					armed <- p.fault
					p.fault = ""
				}
				p.mu.Unlock()
				if _, err := server.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				server.Close()
				return
			}
		}
	}()
	// server to client, breaking the answer once armed
	buf := make([]byte, 32<<10)
	fault, sent := "", 0
	for {
		n, err := server.Read(buf)
		if fault == "" {
			select {
			case fault = <-armed:
				p.fire(fault)
			default:
			}
		}
		switch fault {
		case faultBye:
			client.Write([]byte("* BYE Server shutting down\r\n"))
			client.Close()
			server.Close()
			return
		case faultStall, faultCut:
			p.mu.Lock()
			after := p.after
			p.mu.Unlock()
			if sent+n >= after {
				client.Write(buf[:after-sent])
				if fault == faultStall {
					io.Copy(io.Discard, server) // hold the rest until the client gives up
				}
				client.Close()
				server.Close()
				return
			}
			sent += n
		}
		if n > 0 {
			if _, err := client.Write(buf[:n]); err != nil {
				server.Close()
				return
			}
		}
		if err != nil {
			client.Close()
			return
		}
	}
}

func (p *proxy) fire(string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fired != nil {
		close(p.fired)
		p.fired = nil
	}
}

func (p *proxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}
