package timeline

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// columnAliases maps a heading, folded by foldHeading, to the CSVHeader
// column it fills: the exact names, and the headings that sales teams'
// own sheets use for them, in English and Chinese. A heading not here is
// ignored with a warning; an ambiguous one ("contact(s)" may be people's
// names, "sales" an amount, "class" anything) is deliberately left out.
var columnAliases = func() map[string]string {
	m := map[string]string{}
	for col, names := range map[string][]string{
		"name": {"name", "company", "companyname", "customer", "customername", "client", "clientname",
			"公司", "公司名", "公司名称", "客户", "客户名", "客户名称"},
		"domains": {"domains", "domain", "website", "websites", "web", "site", "url", "homepage",
			"域名", "网站", "网址", "公司网站", "官网"},
		"emails": {"emails", "email", "mail", "emailaddress", "emailaddresses", "contactemail",
			"contactemails", "邮箱", "邮件", "电子邮件", "电子邮箱", "联系人邮箱"},
		"grade": {"grade", "level", "rating", "customergrade", "等级", "级别", "客户等级"},
		"owner": {"owner", "rep", "salesrep", "salesperson", "salesman", "accountmanager",
			"负责人", "业务员", "销售", "跟进人"},
		"phone": {"phone", "phones", "tel", "telephone", "mobile", "cell", "phonenumber", "mobilephone",
			"电话", "手机", "联系电话"},
		"country": {"country", "nation", "countryregion", "国家", "国家地区", "国别"},
	} {
		for _, n := range names {
			m[n] = col
		}
	}
	return m
}()

// listColumns may come from several columns of a sheet ("Phone" and
// "Mobile"): their cells are joined with "; ", which the row parser
// splits again. The other columns must appear once.
var listColumns = map[string]bool{"domains": true, "emails": true, "phone": true}

// foldHeading reduces a heading to what columnAliases is keyed by:
// compatibility-folded (full-width letters), lower-case, letters and
// digits only ("E-mail" is "email", "Sales Rep." is "salesrep", "国家/地区"
// is "国家地区").
func foldHeading(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKC.String(strings.TrimPrefix(s, "\ufeff")) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// sheetHeader is a sheet's header as read: for each CSVHeader column, the
// sheet columns (0-based) that fill it.
type sheetHeader struct {
	cols  [][]int
	width int // cells in the header row, empty ones included
}

// readHeader maps a header row to CSVHeader's columns, in any order and by
// any alias (columnAliases); col names a sheet column in messages ("column
// 3", "column C"). Columns that fill nothing are ignored, each with a
// warning. A missing name column, or a single-value column given twice,
// is an error naming it.
func readHeader(header []string, where string, col func(i int) string) (sheetHeader, []string, error) {
	h := sheetHeader{cols: make([][]int, len(CSVHeader)), width: len(header)}
	var warnings []string
	for i, cell := range header {
		f := foldHeading(cell)
		if f == "" {
			continue
		}
		name, ok := columnAliases[f]
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s: %s %q is not a customer field (%s): ignored",
				where, col(i), strings.TrimSpace(cell), strings.Join(CSVHeader, ", ")))
			continue
		}
		k := slices.Index(CSVHeader, name)
		if len(h.cols[k]) > 0 && !listColumns[name] {
			first := h.cols[k][0]
			return h, nil, fmt.Errorf("%s: %s %q and %s %q are both the %s column",
				where, col(first), strings.TrimSpace(header[first]), col(i), strings.TrimSpace(cell), name)
		}
		h.cols[k] = append(h.cols[k], i)
	}
	if len(h.cols[0]) == 0 {
		return h, nil, fmt.Errorf("%s: header %q has no name column (the company's name: a heading such as name, company or customer); want %q or those columns in any order",
			where, strings.Join(header, ","), strings.Join(CSVHeader, ","))
	}
	return h, warnings, nil
}

// fields returns a row's cells in CSVHeader order.
func (h sheetHeader) fields(cells []string) []string {
	out := make([]string, len(CSVHeader))
	for k, cols := range h.cols {
		var vals []string
		for _, i := range cols {
			if i < len(cells) && cells[i] != "" {
				vals = append(vals, cells[i])
			}
		}
		out[k] = strings.Join(vals, "; ")
	}
	return out
}
