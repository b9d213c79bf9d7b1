package handover

import "testing"

func TestThreadKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"RFQ LED panel 600x600", "rfq led panel 600x600"},
		{"Re: RFQ LED panel 600x600", "rfq led panel 600x600"},
		{"RE: Fwd:  RFQ   LED panel 600x600 ", "rfq led panel 600x600"},
		{"RE[2]: RFQ LED panel 600x600", "rfq led panel 600x600"},
		{"Re(3): RFQ LED panel 600x600", "rfq led panel 600x600"},
		{"AW: WG: Angebot Hallenleuchten", "angebot hallenleuchten"},
		{"回复：询价 LED面板灯", "询价 led面板灯"},
		{"回复: 转发: 询价", "询价"},
		{"[EXT] Re: Quotation Q-2026-031", "quotation q-2026-031"},
		{"Report on results", "report on results"}, // "re" inside a word is no prefix
		{"Trade show", "trade show"},               // nor "tr"
		{"Re:", ""},
		{"", ""},
	} {
		if got := ThreadKey(tc.in); got != tc.want {
			t.Errorf("ThreadKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := DisplaySubject("Re: RE: Price list"); got != "Price list" {
		t.Errorf("DisplaySubject = %q", got)
	}
	if got := DisplaySubject("Re: "); got != "(no subject)" {
		t.Errorf("DisplaySubject of empty = %q", got)
	}
}
