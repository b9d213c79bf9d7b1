package search

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// benchDocs is how many events the benchmarks index.
const benchDocs = 10_000

var (
	enWords = strings.Fields(`quotation price pump valve flange bearing gearbox compressor sample order
		delivery shipment invoice payment terms FOB CIF container drawing specification model stainless
		steel pressure flow rate warranty discount urgent please confirm attached catalogue certificate
		inspection packing pallet tolerance quantity unit lead time factory audit moq`)
	zhWords = strings.Fields(`报价 报价单 离心泵 阀门 法兰 轴承 齿轮箱 压缩机 样品 订单 交货期 发货 发票 付款
		条款 集装箱 图纸 规格 型号 不锈钢 压力 流量 质保 折扣 请确认 附件 目录 证书 验货 包装 托盘 数量 工厂`)
	twWords = strings.Fields(`報價 報價單 離心泵 閥門 軸承 齒輪箱 壓縮機 樣品 訂單 交貨期 發貨 發票 付款 條款 圖紙 規格`)
)

// benchText returns about n bytes of words from ws.
func benchText(r *rand.Rand, ws []string, sep string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(ws[r.IntN(len(ws))])
		b.WriteString(sep)
	}
	return b.String()
}

// seed inserts n messages with events and outbox rows, set-based: 70%
// English, 25% simplified and 5% traditional Chinese, bodies of about
// 1.8 KB, 50 customers, 5 reps.
func (e *env) seed(n int) {
	e.t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 50 {
		e.customer(fmt.Sprintf("Customer %d 客户", i))
	}
	rows := make([][]any, n)
	for i := range rows {
		ws, sep := enWords, " "
		switch p := r.IntN(100); {
		case p < 25:
			ws, sep = zhWords, "，"
		case p < 30:
			ws, sep = twWords, "，"
		}
		subject := benchText(r, ws, sep, 40)
		body := benchText(r, ws, sep, 1800)
		from := fmt.Sprintf(`[{"name":"Buyer %d","email":"buyer%d@c%d.example"}]`, i, i, i%50)
		rows[i] = []any{fmt.Sprintf("mid:bench-%d", i), subject, from, `[{"email":"rep@example.com"}]`,
			body, `[{"filename":"PI-` + fmt.Sprint(i) + `.pdf"}]`, len(body), "in"}
	}
	_, err := e.pool.CopyFrom(e.ctx, pgx.Identifier{"messages"},
		[]string{"dedup_key", "subject", "from_addrs", "to_addrs", "body", "attachments", "size", "direction"},
		pgx.CopyFromRows(rows))
	if err != nil {
		e.t.Fatal(err)
	}
	e.exec(`
		INSERT INTO events (message_id, customer_id, kind, direction, rep, occurred_at)
		SELECT m.id, (SELECT min(id) FROM customers) + m.id % 50,
		       (ARRAY['inquiry','quote','email'])[1 + m.id % 3], 'in',
		       'rep' || (m.id % 5) || '@seller.example', now() - m.id * interval '1 hour'
		FROM messages m`)
	e.exec(`INSERT INTO search_outbox (event_id) SELECT id FROM events ORDER BY id`)
}

// BenchmarkIndexing sends benchDocs events through the outbox into an
// empty index and reports documents per second, waits for Meilisearch
// included (a drained row is searchable).
//
//	go test ./search/ -run '^$' -bench Indexing -benchtime 1x
func BenchmarkIndexing(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		e.seed(benchDocs)
		b.StartTimer()
		start := time.Now()
		if n := e.drain(e.ix); n != benchDocs {
			b.Fatalf("drained %d, want %d", n, benchDocs)
		}
		total += time.Since(start)
	}
	b.ReportMetric(float64(benchDocs*b.N)/total.Seconds(), "docs/s")
}

// BenchmarkSearch measures search latency on an index of benchDocs events
// and reports the median and 99th percentile per query shape.
//
//	go test ./search/ -run '^$' -bench Search -benchtime 2000x
func BenchmarkSearch(b *testing.B) {
	e := newEnv(b)
	e.seed(benchDocs)
	e.drain(e.ix)
	var cust int64
	if err := e.pool.QueryRow(e.ctx, `SELECT min(id) FROM customers`).Scan(&cust); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		q    Query
	}{
		{"english", Query{Q: "stainless valve"}},
		{"chinese", Query{Q: "报价"}},
		{"traditional", Query{Q: "報價"}}, // federated: as typed and folded
		{"customer", Query{Q: "pump", CustomerIDs: []int64{cust, cust + 1}}},
		{"rep-kind", Query{Q: "delivery", Rep: "rep3@seller.example", Kind: "quote"}},
		{"newest", Query{CustomerIDs: []int64{cust}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			var hits int
			for b.Loop() {
				start := time.Now()
				h, _, err := e.ix.Search(e.ctx, c.q)
				lat = append(lat, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				hits = len(h)
			}
			if hits == 0 {
				b.Fatalf("%+v found nothing", c.q)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
