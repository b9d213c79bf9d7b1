package message_test

import (
	"fmt"

	"github.com/mailtrail/mailtrail/message"
)

func ExampleParse() {
	raw := []byte("From: =?gb2312?B?zfW/rQ==?= <kevin@nblumiway.cn>\r\n" +
		"To: sales@lumiway-lighting.com\r\n" +
		"Subject: Fw:=?gbk?B?0a+82w==?= LED panel\r\n" +
		"Date: Mon, 9 Jun 2025 09:10:13 +0800 (CST)\r\n" +
		"Message-ID: <202506090910@nblumiway.cn>\r\n" +
		"Content-Type: text/plain; charset=gbk\r\n" +
		"\r\n" +
		"\xc7\xeb\xb8\xfa\xbd\xf8\xa1\xa3\r\n" + // 请跟进。
		"\r\n" +
		"------------------ \xd4\xad\xca\xbc\xd3\xca\xbc\xfe ------------------\r\n" + // 原始邮件
		"\xb7\xa2\xbc\xfe\xc8\xcb: \"Jim Patterson\"<jim@gulfcoastsolar.com>;\r\n" + // 发件人
		"\xd6\xf7\xcc\xe2: RFQ LED panel\r\n" + // 主题
		"\r\n" +
		"Please quote 300 pcs.\r\n")
	m := message.Parse(raw)
	fmt.Println(m.From[0].Name, m.From[0].Email)
	fmt.Println(m.Subject)
	fmt.Println(m.Date.UTC())
	fmt.Println(m.MessageID)
	fmt.Println(m.NewText)
	for _, f := range m.Forwarded {
		fmt.Println(f.From[0].Email, "|", f.Subject, "|", f.Text)
	}
	fmt.Println(m.Malformed)
	// Output:
	// 王凯 kevin@nblumiway.cn
	// Fw:询价 LED panel
	// 2025-06-09 01:10:13 +0000 UTC
	// 202506090910@nblumiway.cn
	// 请跟进。
	// jim@gulfcoastsolar.com | RFQ LED panel | Please quote 300 pcs.
	// false
}
