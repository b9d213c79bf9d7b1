package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cpuUse is CPU time, with the kernel's part apart: on the machine the
// figures come from, the kernel's part is a third of the whole and the
// part that varies from run to run (see the README's benchmarks).
type cpuUse struct{ total, kernel float64 } // seconds

func (c cpuUse) minus(o cpuUse) cpuUse { return cpuUse{c.total - o.total, c.kernel - o.kernel} }

func (c cpuUse) plus(o cpuUse) cpuUse { return cpuUse{c.total + o.total, c.kernel + o.kernel} }

func (c cpuUse) String() string { return fmt.Sprintf("%.1f s (kernel %.1f s)", c.total, c.kernel) }

// serviceCPU returns the CPU time used so far by each service this
// test process started (PostgreSQL, Dovecot, ...), by the name of the
// service's first process: its own time, its reaped children's, and that
// of every live descendant. The difference of two readings is what the
// services spent in between, PostgreSQL's exited backends included.
func serviceCPU() map[string]cpuUse {
	type proc struct {
		ppid int
		comm string
		cpu  cpuUse
	}
	procs := map[int]proc{}
	dirs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, d := range dirs {
		data, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		s := string(data)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+2:])
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, _ := strconv.Atoi(f[1])
		var ticks [4]float64 // utime stime cutime cstime
		for i := range ticks {
			ticks[i], _ = strconv.ParseFloat(f[11+i], 64)
		}
		use := cpuUse{(ticks[0] + ticks[1] + ticks[2] + ticks[3]) / 100, (ticks[1] + ticks[3]) / 100} // USER_HZ
		procs[pid] = proc{ppid, s[open+1 : close], use}
	}
	top := func(pid int) int { // the ancestor that is our child, or 0
		for pid != 0 {
			p, ok := procs[pid]
			if !ok {
				return 0
			}
			if p.ppid == os.Getpid() {
				return pid
			}
			pid = p.ppid
		}
		return 0
	}
	out := map[string]cpuUse{}
	for pid, p := range procs {
		if t := top(pid); t != 0 {
			out[procs[t].comm] = out[procs[t].comm].plus(p.cpu)
		}
	}
	return out
}

// processCPU is the CPU time of a command that has exited.
func processCPU(ps *os.ProcessState) cpuUse {
	return cpuUse{(ps.UserTime() + ps.SystemTime()).Seconds(), ps.SystemTime().Seconds()}
}
