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
		want []string
	}{
		{"+971 4 352 8810", []string{"97143528810"}},
		{"00971-4-352-8810", []string{"97143528810"}},
		{"+1 (713) 555-0198 ext. 12", []string{"17135550198"}},
		{"+1 (713) 555-0198 x12", []string{"17135550198"}},
		{"+49 89 2180 4471; +49 89 2180 4472", []string{"498921804471", "498921804472"}},
		{"０２１－５５５－０１８３", []string{"0215550183"}}, // full-width digits
		{"n/a", nil},
		{"123", nil}, // too short to be a phone
		{"", nil},
	} {
		if got := PhoneKeys(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("PhoneKeys(%q) = %q, want %q", tc.in, got, tc.want)
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
