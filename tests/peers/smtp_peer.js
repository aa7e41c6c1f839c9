// A real SMTP server (smtp-server) for duijie's email tests, on loopback only. Two listeners:
// one offers STARTTLS with the certificate given in SMTP_CERT/SMTP_KEY and requires AUTH
// (user "duijie", password "smtp-test-password") after it; the other hides STARTTLS, so a
// client that would fall back to plain text is caught. Every accepted message is parsed by
// mailparser; GET /_mail?count=N answers (long poll, 8 s) with what arrived:
// [{envelope, raw (base64), parsed: {subject, from, to, replyTo, text, html, messageId,
//   inReplyTo, references, headers, attachments: [{filename, contentType, content (base64)}]}}]
// GET /_stats answers {connections, closed, auth_failures, plain_attempts}; GET
// /_wait_closed?count=N waits until N connections closed. A RCPT to an address starting with
// "gone" gets 550 5.1.1, one starting with "busy" gets 450; a message to one starting with "drop"
// is taken (listed in /_mail) and its connection closed before the answer.
// A third listener speaks implicit TLS from the first byte (port 465 style).
// Usage: node smtp_peer.js -> prints "listening <starttls-port> <no-tls-port> <http-port> <tls-port>".
'use strict';
const fs = require('fs');
const http = require('http');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');

const USER = 'duijie';
const PASSWORD = 'smtp-test-password';
const mail = [];
const stats = { connections: 0, closed: 0, auth_failures: 0, plain_attempts: 0 };
const waiters = [];
function settle() {
  for (let i = waiters.length - 1; i >= 0; --i) {
    if (waiters[i].ready()) { waiters[i].done(); waiters.splice(i, 1); }
  }
}

function options(hideStartTls, secure = false) {
  return {
    secure,
    key: fs.readFileSync(process.env.SMTP_KEY),
    cert: fs.readFileSync(process.env.SMTP_CERT),
    hideSTARTTLS: hideStartTls,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: false,
    allowInsecureAuth: false,
    logger: false,
    onConnect(session, cb) { stats.connections++; cb(); },
    onClose() { stats.closed++; settle(); },
    onAuth(auth, session, cb) {
      if (!session.secure) { stats.plain_attempts++; }
      if (auth.username !== USER || auth.password !== PASSWORD) {
        stats.auth_failures++;
        settle();
        return cb(new Error('Invalid username or password'));
      }
      cb(null, { user: USER });
    },
    onMailFrom(address, session, cb) {
      if (!session.secure) { stats.plain_attempts++; return cb(Object.assign(new Error('TLS required'), { responseCode: 530 })); }
      cb();
    },
    onRcptTo(address, session, cb) {
      if (address.address.startsWith('gone')) return cb(Object.assign(new Error('5.1.1 user unknown'), { responseCode: 550 }));
      if (address.address.startsWith('busy')) return cb(Object.assign(new Error('4.2.1 try later'), { responseCode: 450 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks);
        const drop = session.envelope.rcptTo.some((r) => r.address.startsWith('drop'));
        try {
          const p = await simpleParser(raw);
          const headers = {};
          // Raw header lines, unfolded: what the sender wrote, not mailparser's structures.
          for (const h of p.headerLines) headers[h.key] = h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ').trim();
          mail.push({
            envelope: { from: session.envelope.mailFrom.address, to: session.envelope.rcptTo.map((r) => r.address) },
            secure: session.secure,
            raw: raw.toString('base64'),
            parsed: {
              subject: p.subject, from: p.from && p.from.value, to: p.to && p.to.value,
              replyTo: p.replyTo && p.replyTo.value, text: p.text, html: p.html || '',
              messageId: p.messageId, inReplyTo: p.inReplyTo, references: p.references,
              headers,
              attachments: p.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType,
                content: a.content.toString('base64') })),
            },
          });
          settle();
          if (drop) {
            for (const server of [starttls, plain, implicit]) {
              for (const c of server.connections) if (c.id === session.id) c._socket.destroy();
            }
            return;
          }
          cb();
        } catch (e) {
          cb(Object.assign(new Error('unparseable: ' + e.message), { responseCode: 554 }));
        }
      });
    },
  };
}

const starttls = new SMTPServer(options(false));
const plain = new SMTPServer(options(true));
const implicit = new SMTPServer(options(false, true));
starttls.on('error', () => {});
plain.on('error', () => {});
implicit.on('error', () => {});

const control = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  const count = Number(url.searchParams.get('count') || 0);
  const answer = (body) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(body)); };
  let ready;
  let body;
  if (url.pathname === '/_mail') { ready = () => mail.length >= count; body = () => mail; }
  else if (url.pathname === '/_wait_closed') { ready = () => stats.closed >= count; body = () => stats; }
  else if (url.pathname === '/_wait_auth_failures') { ready = () => stats.auth_failures >= count; body = () => stats; }
  else if (url.pathname === '/_stats') { ready = () => true; body = () => stats; }
  else { res.writeHead(404); return res.end(); }
  if (ready()) return answer(body());
  const timer = setTimeout(() => answer(body()), 8000);
  waiters.push({ ready, done: () => { clearTimeout(timer); answer(body()); } });
});

starttls.listen(0, '127.0.0.1', () => {
  plain.listen(0, '127.0.0.1', () => {
    control.listen(0, '127.0.0.1', () => {
      implicit.listen(0, '127.0.0.1', () => {
        process.stderr.write(`listening ${starttls.server.address().port} ${plain.server.address().port} ` +
          `${control.address().port} ${implicit.server.address().port}\n`);
      });
    });
  });
});
