package classify

import (
	"testing"

	"github.com/mailtrail/mailtrail/message"
)

func addr(email string) []message.Address { return []message.Address{{Email: email}} }

func TestNoise(t *testing.T) {
	person := func() *message.Message {
		return &message.Message{
			From: addr("buyer@example.de"), Subject: "Order PO 4471", ContentType: "text/plain",
			Header:  map[string]string{"Content-Type": "text/plain; charset=utf-8", "Return-Path": "<buyer@example.de>"},
			NewText: "Please confirm the delivery date.",
		}
	}
	with := func(f func(m *message.Message)) *message.Message {
		m := person()
		f(m)
		return m
	}
	tests := []struct {
		name   string
		m      *message.Message
		reason string
		rule   string
	}{
		{"person", person(), "", ""},

		// bounces
		{"dsn", with(func(m *message.Message) {
			m.ContentType = "multipart/report"
			m.Header["Content-Type"] = `multipart/report; report-type="delivery-status"; boundary="x"`
		}), NoiseBounce, "bounce.dsn"},
		{"dsn unquoted param", with(func(m *message.Message) {
			m.Header["Content-Type"] = "Multipart/Report; boundary=x; Report-Type=delivery-status"
		}), NoiseBounce, "bounce.dsn"},
		{"mailer-daemon text bounce", with(func(m *message.Message) {
			m.From = addr("MAILER-DAEMON@mx.example.com")
			m.Subject = "failure notice"
		}), NoiseBounce, "bounce.sender"},
		{"x-failed-recipients", with(func(m *message.Message) { m.Header["X-Failed-Recipients"] = "a@b.c" }), NoiseBounce, "bounce.failed_recipients"},
		{"english bounce subject", with(func(m *message.Message) { m.Subject = "Delivery Status Notification (Failure)" }), NoiseBounce, "bounce.subject"},
		{"undelivered subject", with(func(m *message.Message) { m.Subject = "Undelivered Mail Returned to Sender" }), NoiseBounce, "bounce.subject"},
		{"chinese bounce subject", with(func(m *message.Message) { m.Subject = "系统退信" }), NoiseBounce, "bounce.subject"},
		{"chinese bounce subject 2", with(func(m *message.Message) { m.Subject = "退信：Re: 报价" }), NoiseBounce, "bounce.subject"},

		// automatic replies
		{"auto-submitted auto-replied", with(func(m *message.Message) { m.Header["Auto-Submitted"] = "auto-replied (vacation)" }), NoiseAutoReply, "auto_reply.auto_submitted"},
		{"auto-replied wins over precedence bulk", with(func(m *message.Message) {
			m.Header["Auto-Submitted"] = "Auto-Replied"
			m.Header["Precedence"] = "bulk"
		}), NoiseAutoReply, "auto_reply.auto_submitted"},
		{"auto-submitted no is a person", with(func(m *message.Message) { m.Header["Auto-Submitted"] = "no" }), "", ""},
		{"x-autoreply", with(func(m *message.Message) { m.Header["X-Autoreply"] = "yes" }), NoiseAutoReply, "auto_reply.x_autoreply"},
		{"x-autorespond", with(func(m *message.Message) { m.Header["X-Autorespond"] = "1" }), NoiseAutoReply, "auto_reply.x_autorespond"},
		{"precedence auto_reply", with(func(m *message.Message) { m.Header["Precedence"] = "auto_reply" }), NoiseAutoReply, "auto_reply.precedence"},
		{"header name case", with(func(m *message.Message) { m.Header = map[string]string{"x-autoreply": "YES"} }), NoiseAutoReply, "auto_reply.x_autoreply"},
		{"null return path", with(func(m *message.Message) { m.Header["Return-Path"] = "<>" }), NoiseAutoReply, "auto_reply.null_sender"},
		{"read receipt", with(func(m *message.Message) {
			m.Header["Content-Type"] = "multipart/report; report-type=disposition-notification; boundary=y"
		}), NoiseAutoReply, "auto_reply.read_receipt"},
		{"ooo subject en", with(func(m *message.Message) { m.Subject = "Automatic reply: RE: RFQ LED tubes" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject out of office", with(func(m *message.Message) { m.Subject = "Out of Office: Re: PI 2026" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject zh", with(func(m *message.Message) { m.Subject = "自动回复: 报价单" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject zh_tw", with(func(m *message.Message) { m.Subject = "自動回覆：RE: 訂單" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject ja", with(func(m *message.Message) { m.Subject = "自動応答: サンプル" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject de", with(func(m *message.Message) { m.Subject = "Abwesenheitsnotiz: Anfrage" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject es", with(func(m *message.Message) { m.Subject = "Respuesta automática: Cotización" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject pt", with(func(m *message.Message) { m.Subject = "Resposta automática: RES: Pedido" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject fr", with(func(m *message.Message) { m.Subject = "Réponse automatique : devis" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject ru", with(func(m *message.Message) { m.Subject = "Автоответ: Запрос цен" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo subject ar", with(func(m *message.Message) { m.Subject = "رد تلقائي: عرض سعر" }), NoiseAutoReply, "auto_reply.subject"},
		{"ooo text en", with(func(m *message.Message) {
			m.NewText = "Thank you for your email. I am out of the office until 3 May with limited access to email."
		}), NoiseAutoReply, "auto_reply.text"},
		{"ooo text zh_tw", with(func(m *message.Message) { m.NewText = "您好，本人休假中，8月3日返回辦公室，謝謝。" }), NoiseAutoReply, "auto_reply.text"},
		{"ooo text ja", with(func(m *message.Message) {
			m.NewText = "誠に恐れ入りますが、8月11日まで不在にしております。"
		}), NoiseAutoReply, "auto_reply.text"},
		{"ooo text ru", with(func(m *message.Message) { m.NewText = "Я в отпуске до 15 августа." }), NoiseAutoReply, "auto_reply.text"},
		{"person mentions leave in a long letter", with(func(m *message.Message) {
			m.NewText = "Dear Amy, I am out of the office until Monday, so please send the PI to my colleague Anna. " +
				"She will arrange the deposit for PO 4471 and confirm the shipping marks, the carton labels and the " +
				"inspection date with your QC team. Please also add the CE certificates and the test reports for the " +
				"drivers to the document set, our customs broker needs them before the vessel arrives. Thank you."
		}), "", ""},

		// calendar
		{"calendar top level", with(func(m *message.Message) {
			m.ContentType = "text/calendar"
			m.Header["Content-Type"] = "text/calendar; method=REQUEST; charset=utf-8"
		}), NoiseCalendar, "calendar.invite"},
		{"calendar part", with(func(m *message.Message) {
			m.Attachments = []message.Attachment{{Filename: "invite.ics", ContentType: "text/calendar"}}
		}), NoiseCalendar, "calendar.invite"},
		{"invitation subject is not a calendar", with(func(m *message.Message) { m.Subject = "Invitation - Hong Kong Lighting Fair" }), "", ""},

		// bulk
		{"list-id", with(func(m *message.Message) { m.Header["List-Id"] = "<news.example.com>" }), NoiseBulk, "bulk.list_id"},
		{"list-unsubscribe", with(func(m *message.Message) { m.Header["List-Unsubscribe"] = "<mailto:u@example.com>" }), NoiseBulk, "bulk.list_unsubscribe"},
		{"precedence bulk", with(func(m *message.Message) { m.Header["Precedence"] = "bulk" }), NoiseBulk, "bulk.precedence"},
		{"precedence list", with(func(m *message.Message) { m.Header["Precedence"] = "list" }), NoiseBulk, "bulk.precedence"},
		{"precedence junk", with(func(m *message.Message) { m.Header["Precedence"] = "junk" }), NoiseBulk, "bulk.precedence"},
		{"auto-generated notification", with(func(m *message.Message) { m.Header["Auto-Submitted"] = "auto-generated" }), NoiseBulk, "bulk.auto_generated"},
		{"no-reply sender", with(func(m *message.Message) { m.From = addr("no-reply@bank.example.com") }), NoiseBulk, "bulk.noreply_sender"},
		{"prefixed noreply sender", with(func(m *message.Message) { m.From = addr("rfq-noreply@service.example.com") }), NoiseBulk, "bulk.noreply_sender"},
		{"notification sender", with(func(m *message.Message) { m.From = addr("notifications@tracker.example.com") }), NoiseBulk, "bulk.noreply_sender"},
		{"b2b platform", with(func(m *message.Message) { m.From = addr("service@message.alibaba.com") }), NoiseBulk, "bulk.platform"},
		{"b2b platform lookalike is not", with(func(m *message.Message) { m.From = addr("sales@notalibaba.com") }), "", ""},
		{"platform notice subject", with(func(m *message.Message) {
			m.From = addr("buyer-service@example-b2b.com")
			m.Subject = "You have a new inquiry from a buyer in Chile"
		}), NoiseBulk, "bulk.platform_notice"},
		{"made-in-china", with(func(m *message.Message) { m.From = addr("inquiry@made-in-china.com") }), NoiseBulk, "bulk.platform"},
		{"carrier", with(func(m *message.Message) { m.From = addr("tracking@dhl.com") }), NoiseBulk, "bulk.carrier"},
		{"fair", with(func(m *message.Message) { m.From = addr("visitor@cantonfair.org.cn") }), NoiseBulk, "bulk.fair"},
		{"rate mailing footer", with(func(m *message.Message) {
			m.From = addr("rates@forwarder.example.com")
			m.NewText = "Weekly rates ex Ningbo: Hamburg USD 2,350. To stop receiving these emails, reply UNSUBSCRIBE."
		}), NoiseBulk, "bulk.footer"},
		{"chinese system mail", with(func(m *message.Message) {
			m.NewText = "您的邮箱容量即将用满。此邮件为系统邮件，请勿回复。"
		}), NoiseBulk, "bulk.footer"},
		{"info@ is a person", with(func(m *message.Message) { m.From = addr("info@buyer.example.com") }), "", ""},
	}
	r := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reason, rule := r.Noise(tt.m)
			if reason != tt.reason || rule != tt.rule {
				t.Errorf("Noise = (%q, %q), want (%q, %q)", reason, rule, tt.reason, tt.rule)
			}
		})
	}
}
