package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// serviceCPU returns the CPU seconds used so far by each service this
// test process started (PostgreSQL, Dovecot, ...), by the name of the
// service's first process: its own time, its reaped children's, and that
// of every live descendant. The difference of two readings is what the
// services spent in between, PostgreSQL's exited backends included.
func serviceCPU() map[string]float64 {
	type proc struct {
		ppid int
		comm string
		cpu  float64
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
		var ticks float64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseFloat(f[i], 64)
			ticks += v
		}
		procs[pid] = proc{ppid, s[open+1 : close], ticks / 100} // USER_HZ
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
	out := map[string]float64{}
	for pid, p := range procs {
		if t := top(pid); t != 0 {
			out[procs[t].comm] += p.cpu
		}
	}
	return out
}
