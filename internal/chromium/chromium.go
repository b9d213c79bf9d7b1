// Package chromium drives Debian's headless Chromium over the DevTools
// protocol, for tests that render mailtrail's HTML pages: it collects
// console errors, uncaught exceptions and failed loads, evaluates
// expressions in the page, and takes screenshots and PDFs.
//
// The protocol is JSON over one WebSocket per page (golang.org/x/net
// websocket); commands are answered in order on the same connection, so a
// page is driven synchronously, without a reader goroutine.
package chromium

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/websocket"
)

// Binary returns the path of the chromium executable, or an error saying
// how to install it.
func Binary() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found: run scripts/install-deps.sh (it installs Debian's chromium)")
}

// Browser is a running headless Chromium.
type Browser struct {
	cmd    *exec.Cmd
	origin string // http://127.0.0.1:PORT, the DevTools HTTP endpoint
	drain  sync.WaitGroup
}

// Start runs headless Chromium with its profile in userDataDir (a fresh
// temporary directory) and waits until its DevTools endpoint listens. It
// reaches no network by itself: background networking, component updates,
// sync and QUIC are off. Close stops it.
func Start(ctx context.Context, userDataDir string) (*Browser, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-dev-shm-usage", // a container's /dev/shm is 64 MB: Chromium crashes in it
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
		"--user-data-dir="+userDataDir,
		"--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--remote-allow-origins=http://127.0.0.1",
		"about:blank")
	// Its own process group, so Close ends its helper processes too; and
	// killed with the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	b := &Browser{cmd: cmd}
	found := make(chan string, 1)
	var tail []string // the last lines, to explain a failed start
	var tailMu sync.Mutex
	b.drain.Go(func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if ws, ok := strings.CutPrefix(line, "DevTools listening on "); ok {
				select {
				case found <- ws:
				default:
				}
			}
			tailMu.Lock()
			if tail = append(tail, line); len(tail) > 20 {
				tail = tail[1:]
			}
			tailMu.Unlock()
		}
		_, _ = io.Copy(io.Discard, stderr)
	})
	select {
	case ws := <-found:
		u, err := url.Parse(ws)
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("devtools address %q: %w", ws, err)
		}
		b.origin = "http://" + u.Host
		return b, nil
	case <-ctx.Done():
		b.Close()
		tailMu.Lock()
		defer tailMu.Unlock()
		return nil, fmt.Errorf("chromium did not start: %w\n%s", ctx.Err(), strings.Join(tail, "\n"))
	}
}

// Close stops the browser and its helper processes and waits for them.
func (b *Browser) Close() error {
	if b.cmd.Process != nil {
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	}
	err := b.cmd.Wait()
	b.drain.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return nil // killed, as asked
	}
	return err
}

// Page is one browser tab.
type Page struct {
	ws     *websocket.Conn
	nextID int
	loaded bool
	// Errors are console errors, uncaught exceptions and failed loads
	// (network, CSP, ...), in the order they happened.
	Errors []string
	// Warnings are console and browser warnings.
	Warnings []string
}

// NewPage opens a blank tab.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, b.origin+"/json/new?about:blank", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil || target.WebSocketDebuggerURL == "" {
		return nil, fmt.Errorf("open a tab: %s: %v", resp.Status, err)
	}
	cfg, err := websocket.NewConfig(target.WebSocketDebuggerURL, "http://127.0.0.1")
	if err != nil {
		return nil, err
	}
	ws, err := cfg.DialContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to the tab: %w", err)
	}
	ws.MaxPayloadBytes = 256 << 20 // a full-page screenshot, base64
	p := &Page{ws: ws}
	for _, domain := range []string{"Page", "Runtime", "Log"} {
		if err := p.call(ctx, domain+".enable", nil, nil); err != nil {
			ws.Close()
			return nil, err
		}
	}
	return p, nil
}

// Close closes the tab's connection.
func (p *Page) Close() error { return p.ws.Close() }

// message is a DevTools protocol message: a response (ID set) or an event.
type message struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call sends a command and reads until its answer, handling the events
// that arrive meanwhile. result, when not nil, receives the answer.
func (p *Page) call(ctx context.Context, method string, params, result any) error {
	p.nextID++
	id := p.nextID
	if params == nil {
		params = struct{}{}
	}
	if err := websocket.JSON.Send(p.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	for {
		m, err := p.read(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if m.ID != id {
			continue
		}
		if m.Error != nil {
			return fmt.Errorf("%s: %s (%d)", method, m.Error.Message, m.Error.Code)
		}
		if result != nil {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	}
}

// read returns the next message, recording what events say.
func (p *Page) read(ctx context.Context) (message, error) {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	_ = p.ws.SetReadDeadline(deadline)
	var m message
	if err := websocket.JSON.Receive(p.ws, &m); err != nil {
		return m, err
	}
	if m.Method != "" {
		p.event(m.Method, m.Params)
	}
	return m, nil
}

func (p *Page) event(method string, params json.RawMessage) {
	switch method {
	case "Page.loadEventFired":
		p.loaded = true
	case "Runtime.consoleAPICalled":
		var e struct {
			Type string `json:"type"`
			Args []struct {
				Value       any    `json:"value"`
				Description string `json:"description"`
			} `json:"args"`
		}
		_ = json.Unmarshal(params, &e)
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, fmt.Sprint(a.Value))
			} else {
				parts = append(parts, a.Description)
			}
		}
		text := "console." + e.Type + ": " + strings.Join(parts, " ")
		switch e.Type {
		case "error", "assert":
			p.Errors = append(p.Errors, text)
		case "warning":
			p.Warnings = append(p.Warnings, text)
		}
	case "Runtime.exceptionThrown":
		var e struct {
			Details struct {
				Text      string `json:"text"`
				Exception struct {
					Description string `json:"description"`
				} `json:"exception"`
			} `json:"exceptionDetails"`
		}
		_ = json.Unmarshal(params, &e)
		p.Errors = append(p.Errors, "exception: "+e.Details.Text+" "+e.Details.Exception.Description)
	case "Log.entryAdded":
		var e struct {
			Entry struct {
				Source string `json:"source"`
				Level  string `json:"level"`
				Text   string `json:"text"`
				URL    string `json:"url"`
			} `json:"entry"`
		}
		_ = json.Unmarshal(params, &e)
		text := e.Entry.Source + ": " + e.Entry.Text + " " + e.Entry.URL
		// The browser asks for /favicon.ico on its own, whether or not the
		// page wants one: its 404 is not the page's error.
		if e.Entry.Source == "network" && strings.HasSuffix(e.Entry.URL, "/favicon.ico") {
			return
		}
		switch e.Entry.Level {
		case "error":
			p.Errors = append(p.Errors, text)
		case "warning":
			p.Warnings = append(p.Warnings, text)
		}
	}
}

// Open starts Chromium (profile in userDataDir), opens a page and loads
// url in a width x height viewport; closeAll closes the page and the
// browser. On error nothing is left running.
func Open(ctx context.Context, userDataDir, url string, width, height int) (p *Page, closeAll func(), err error) {
	b, err := Start(ctx, userDataDir)
	if err != nil {
		return nil, nil, err
	}
	if p, err = b.NewPage(ctx); err != nil {
		b.Close()
		return nil, nil, err
	}
	closeAll = func() {
		p.Close()
		b.Close()
	}
	if err := p.Navigate(ctx, url, width, height); err != nil {
		closeAll()
		return nil, nil, err
	}
	return p, closeAll, nil
}

// Navigate loads url in a width x height viewport and waits for the load
// event and the page's fonts.
func (p *Page) Navigate(ctx context.Context, url string, width, height int) error {
	if err := p.call(ctx, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}, nil); err != nil {
		return err
	}
	p.loaded = false
	var nav struct {
		ErrorText string `json:"errorText"`
	}
	if err := p.call(ctx, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	for !p.loaded {
		if _, err := p.read(ctx); err != nil {
			return fmt.Errorf("wait for %s to load: %w", url, err)
		}
	}
	var ignored any
	return p.Eval(ctx, "document.fonts.ready.then(() => true)", &ignored)
}

// Eval evaluates a JavaScript expression in the page (awaiting a promise)
// and decodes its JSON value into out.
func (p *Page) Eval(ctx context.Context, expr string, out any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call(ctx, "Runtime.evaluate", map[string]any{
		"expression": expr, "returnByValue": true, "awaitPromise": true}, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("evaluate %q: %s", expr, r.ExceptionDetails.Text)
	}
	return json.Unmarshal(r.Result.Value, out)
}

// Screenshot returns a PNG of the viewport, or of the whole page.
func (p *Page) Screenshot(ctx context.Context, fullPage bool) ([]byte, error) {
	params := map[string]any{"format": "png"}
	if fullPage {
		var m struct {
			Content struct {
				Width  float64 `json:"width"`
				Height float64 `json:"height"`
			} `json:"cssContentSize"`
		}
		if err := p.call(ctx, "Page.getLayoutMetrics", nil, &m); err != nil {
			return nil, err
		}
		params["captureBeyondViewport"] = true
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": m.Content.Width, "height": m.Content.Height, "scale": 1}
	}
	return p.data(ctx, "Page.captureScreenshot", params)
}

// PDF prints the page as Chromium's "Save as PDF" would.
func (p *Page) PDF(ctx context.Context) ([]byte, error) {
	return p.data(ctx, "Page.printToPDF", map[string]any{"printBackground": true, "preferCSSPageSize": true})
}

func (p *Page) data(ctx context.Context, method string, params map[string]any) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.call(ctx, method, params, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}
