package timeline

import (
	"slices"
	"testing"
)

func TestNameKey(t *testing.T) {
	for _, tc := range []struct {
		a, b string // equal keys
	}{
		{"Sunrise Trading LLC", "Sunrise Trading L.L.C."},
		{"Sunrise Trading LLC", "SUNRISE TRADING llc"},
		{"Sunrise Trading LLC", "Sunrise-Trading"},
		{"Hoffmann Lichttechnik GmbH", "Hoffmann Lichttechnik"},
		{"Iluminación Pacífico S.A. de C.V.", "ILUMINACION PACIFICO SA DE CV"},
		{"Iluminación Pacífico S.A. de C.V.", "Iluminacion Pacifico"},
		{"Distribuidora Lumen Chile SpA", "Distribuidora Lumen Chile S.p.A."},
		{"Cape Lumens (Pty) Ltd", "Cape Lumens Pty. Ltd."},
		{"Tan & Lim Lighting Sdn Bhd", "Tan and Lim Lighting Sdn. Bhd."},
		{"Lichtwerk Handels GmbH & Co. KG", "Lichtwerk Handels"},
		{"Elektro Nowak Sp. z o.o.", "Elektro Nowak"},
		{"Kuang Hui Lighting Co., Ltd.", "Kuang Hui Lighting Co Ltd"},
		{"Anatolia Aydınlatma A.Ş.", "Anatolia Aydınlatma"},
		{"ООО «Светлый Дом»", "Светлый Дом ООО"},
		{"深圳市光明照明有限公司", "深圳市光明照明"},
		{"深圳市光明照明股份有限公司", "深圳市光明照明有限公司"},
		{"光明集团有限公司", "光明"},
		{"株式会社ナニワ照明", "ナニワ照明株式会社"},
		{"Ｌｕｍｅｎ Ｃｈｉｌｅ", "Lumen Chile"}, // full-width
		{"The Lighting House", "Lighting House"},
		{"LuzForte Comércio", "Luz Forte Comercio"},
		{"Nile Lighting Co.", "Nile Lighting Company"},
		{"Lumen S. A.", "Lumen SA"}, // initials with a space
		{"Iluminación Pacífico S. A. de C. V.", "Iluminacion Pacifico"},
		{"Sunrise Trading L. L. C.", "Sunrise Trading LLC"},
		{"Anatolia Aydınlatma A. Ş.", "Anatolia Aydınlatma"},
		{"Tecnoluz S. R. L.", "Tecnoluz SRL"},
	} {
		ka, kb := NameKey(tc.a), NameKey(tc.b)
		if ka == "" || ka != kb {
			t.Errorf("NameKey(%q) = %q, NameKey(%q) = %q: want equal and not empty", tc.a, ka, tc.b, kb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"Pacific Rim Lighting Corp", "Pacific Rim Lighting (Australia) Pty Ltd"},
		{"Sunrise Trading", "Sunset Trading"},
		{"As Good As New Ltd", "Good As New Ltd"}, // a legal form inside a name stays
		{"Plan B", "Plan"}, // a last letter that spells no legal form stays
		{"Lumen X Y", "Lumen"},
	} {
		if ka, kb := NameKey(tc.a), NameKey(tc.b); ka == kb {
			t.Errorf("NameKey(%q) = NameKey(%q) = %q: want different", tc.a, tc.b, ka)
		}
	}
	for _, name := range []string{"", "LLC", "Co., Ltd.", "有限公司", "S.A. de C.V.", "X"} {
		if k := NameKey(name); k != "" {
			t.Errorf("NameKey(%q) = %q, want empty: nothing distinctive", name, k)
		}
	}
}

func TestPhoneKeys(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Phone
	}{
		{"+971 4 352 8810", []Phone{{"97143528810", true}}},
		{"00971-4-352-8810", []Phone{{"97143528810", true}}},
		{"+1 (713) 555-0198 ext. 12", []Phone{{"17135550198", true}}},
		{"+1 (713) 555-0198 x12", []Phone{{"17135550198", true}}},
		{"+49 89 2180 4471; +49 89 2180 4472", []Phone{{"498921804471", true}, {"498921804472", true}}},
		{"０２１－５５５－０１８３", []Phone{{"0215550183", false}}}, // full-width digits
		{"Tel: 138 0013 8000", []Phone{{"13800138000", false}}},
		{"n/a", nil},
		{"123", nil}, // too short to be a phone
		{"", nil},
	} {
		if got := Phones(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("Phones(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}

	// One number written two ways, and two numbers, both ways round.
	for _, tc := range []struct {
		a, b   string
		same   bool
		detail string
	}{
		{"021 5555 0183", "+86 21 5555 0183", true, "862155550183"}, // trunk 0 vs country code
		{"021 5555 0183", "0086-21-5555-0183", true, "862155550183"},
		{"021 5555 0183", "862155550183", true, "862155550183"}, // a cell that lost its "+"
		{"021-55550183", "021 5555 0183", true, "02155550183"},
		{"+44 (0)20 7946 0000", "+44 20 7946 0000", true, "442079460000"},
		{"+44 (0)20 7946 0000", "020 7946 0000", true, "442079460000"},
		{"+39 02 1234 5678", "02 1234 5678", true, "39212345678"}, // Italy keeps its 0: read alike on both sides
		{"04 352 8810", "+971 4 352 8810", true, "97143528810"},
		{"971 4 352 8810", "+971 4 352 8810", true, "97143528810"},
		{"138 0013 8000", "+86 138 0013 8000", true, "8613800138000"}, // a mobile has no trunk 0
		{"(713) 555-0198", "+1 713 555 0198", true, "17135550198"},
		{"1-713-555-0198", "+1 713 555 0198", true, "17135550198"},
		{"4989218044", "089 218044", true, "4989218044"},
		{"+44 20 7946 0000", "+49 20 7946 0000", false, ""}, // two countries
		{"010 5555 0183", "021 5555 0183", false, ""},       // Beijing and Shanghai: the last 8 digits agree
		{"010 5555 0183", "+86 21 5555 0183", false, ""},
		{"+86 21 5555 0183", "+86 21 5555 0184", false, ""},
		{"0 555 018", "+86 555 018", false, ""}, // national numbers under 7 digits are not compared
	} {
		for _, ab := range [][2]string{{tc.a, tc.b}, {tc.b, tc.a}} {
			pa, pb := Phones(ab[0]), Phones(ab[1])
			if len(pa) != 1 || len(pb) != 1 {
				t.Errorf("Phones(%q), Phones(%q) = %v, %v", ab[0], ab[1], pa, pb)
				continue
			}
			detail, same := SamePhone(pa[0], pb[0])
			if same != tc.same || detail != tc.detail {
				t.Errorf("SamePhone(%q, %q) = %q, %v; want %q, %v", ab[0], ab[1], detail, same, tc.detail, tc.same)
			}
			if same && phoneGroupKey(pa[0]) != phoneGroupKey(pb[0]) {
				t.Errorf("%q and %q are one number in different groups", ab[0], ab[1])
			}
		}
	}
}

func TestScore(t *testing.T) {
	for _, tc := range []struct {
		reasons []string
		want    float64
	}{
		{[]string{ReasonSameDomain}, 0.9},
		{[]string{ReasonSameName}, 0.6},
		{[]string{ReasonSamePhone}, 0.5},
		{[]string{ReasonSameDomain, ReasonSameName}, 0.96},
		{[]string{ReasonSharedContact, ReasonSameDomain, ReasonSameName, ReasonSamePhone}, 0.998},
	} {
		var rs []Reason
		for _, r := range tc.reasons {
			rs = append(rs, Reason{Reason: r})
		}
		if got := Score(rs); got != tc.want {
			t.Errorf("Score(%v) = %v, want %v", tc.reasons, got, tc.want)
		}
	}
}
