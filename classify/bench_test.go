package classify

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mailtrail/mailtrail/message"
)

// benchFiller is the bulk of a long letter: lines no rule is about, in
// English and Chinese, as in the export-sales mail a sync reads.
var benchFiller = []string{
	"We confirm the order and will arrange production after the deposit.\n",
	"The carton size is 62x32x28 cm, 20 pcs per carton, gross weight 18 kg.\n",
	"Our factory passed the BSCI audit last month; the report is available.\n",
	"Lead time is 25 days after deposit; the sample can ship by DHL in 3 days.\n",
	"Please check the attached drawing and confirm the logo position on the housing.\n",
	"货物已经包装完毕，预计下周二装柜，船期我们会另行通知。\n",
	"样品已于今天通过顺丰寄出，单号稍后发给您。\n",
	"我们工厂通过了BSCI验厂，报告可以提供给贵司参考。\n",
	"\n",
}

// benchMessages returns n parsed messages like those of a sync: a short
// new text from the test cases, 2-24 KB of ordinary lines, a signature
// and, for half of them, quoted history.
func benchMessages(n int) []*message.Message {
	rnd := rand.New(rand.NewPCG(1, 2))
	msgs := make([]*message.Message, n)
	for i := range msgs {
		c := kindCases[rnd.IntN(len(kindCases))]
		var b strings.Builder
		fmt.Fprintf(&b, "From: Li Wei <li@buyer.example>\r\nTo: amy@ourco.example\r\nSubject: %s\r\nMessage-ID: <b%d@buyer.example>\r\n"+
			"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", c.subject, i)
		b.WriteString(c.text + "\n\n")
		for size := 2<<10 + rnd.IntN(22<<10); b.Len() < size; {
			b.WriteString(benchFiller[rnd.IntN(len(benchFiller))])
		}
		b.WriteString("\nBest regards,\nAmy Chen\nSales Manager\nTel: +86-574-8812 6630\n")
		if i%2 == 0 {
			b.WriteString("\nOn Mon, 3 Mar 2026 at 09:12, Li Wei <li@buyer.example> wrote:\n")
			for range 20 {
				b.WriteString("> please quote the items below\n")
			}
		}
		msgs[i] = message.Parse([]byte(b.String()))
	}
	return msgs
}

// BenchmarkClassify is what a sync spends in this package per message:
// Noise, then Kind, on letters of realistic length, as ingest calls them. It reports CPU time
// too (cpu-ns/op), which other work on a shared machine does not inflate
// as it does wall time.
func BenchmarkClassify(b *testing.B) {
	r := Default()
	msgs := benchMessages(200)
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		m := msgs[i%len(msgs)]
		ml := r.Prepare(m)
		ml.Noise()
		ml.Kind([]string{"in", "out"}[i%2], false)
	}
	b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time this process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
