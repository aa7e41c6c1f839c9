// The soak (issue 10): duijie under a mixed load for N minutes while its providers misbehave and
// the process is SIGKILLed twice, then an audit of the ledger against what the providers saw.
//
//   node bench/soak/soak.js --bin build-release/bot/duijie --work DIR [--minutes 10] [--rate 1]
//
// Everything runs on 127.0.0.1 in this one Node process, next to the duijie child:
// - WeCom's API (gettoken, message/send), Tencent Cloud SMS (SendSms checked with the SDK's own
//   TC3 signer, PullSmsSendStatusByPhoneNumber) and an SMTP server (smtp-server, STARTTLS + AUTH);
// - the load: WeCom callbacks sealed by the official @wecom/crypto, SMS replies and delivery
//   receipts in Tencent's callback format, inbound mail, admin API reads, and two broadcasts that
//   are still going out while the rest happens (one with acknowledgement-driven fallback);
// - faults in alternating 30-second windows (calm / faults): HTTP 5xx, provider "busy" answers,
//   requests accepted and never answered (timeouts), slow answers, access tokens expired under
//   the sender, SMTP 451s and dropped connections, and every webhook sometimes delivered twice;
// - duijie SIGKILLed at 1/3 and 2/3 of the run and started again; webhooks refused meanwhile are
//   retried, as the providers retry them.
// At the end the load stops, the outbox drains, and the audit compares the database with the
// providers' own records. The summary goes to stdout (and DIR/summary.json); the exit code is 1
// when anything was lost or duplicated.
'use strict';
const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

const peers = path.join(__dirname, '../../tests/peers/node_modules');
const { getSignature, encrypt } = require(path.join(peers, '@wecom/crypto'));
const { SMTPServer } = require(path.join(peers, 'smtp-server'));
const Sign = require(path.join(peers, 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign')).default;

// ---------------------------------------------------------------------------------------------
// Settings
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const BIN = path.resolve(args.bin);
const WORK = path.resolve(args.work);
const MINUTES = Number(args.minutes || 10);
const RATE = Number(args.rate || 1);  // scales every load generator
const DURATION_MS = MINUTES * 60_000;
const DRAIN_MS = 240_000;
const PHASE_MS = 30_000;
const RESEARCHERS = 1500;
const WECOM_USERS = 300;

// The official Python sample's callback settings (public test values, not secrets).
const WECOM = { token: 'hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo', key: '6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt',
  corp: 'ww1436e0e65a779aee', secret: 'soak-app-secret', agent: '1000002' };
const TENCENT = { id: 'AKIDsoak', key: 'tencent-soak-secret', app: '1400006666' };
const SMS_SECRET = 'soak-callback-secret-0001';
const MAIL_SECRET = 'soak-inbound-secret-0001';
const SMTP_USER = 'duijie';
const SMTP_PASSWORD = 'soak-smtp-password';

const started = Date.now();
const elapsed = () => Date.now() - started;
const faultsOn = () => Math.floor(elapsed() / PHASE_MS) % 2 === 1 && !stopping;
const rnd = () => Math.random();
const log = (...a) => process.stderr.write(`[${(elapsed() / 1000).toFixed(0).padStart(4)}s] ${a.join(' ')}\n`);
let stopping = false;

const faults = {};
const fault = (name) => { faults[name] = (faults[name] || 0) + 1; };

// ---------------------------------------------------------------------------------------------
// Fake WeCom API: what it accepted, per member.
const wecom = { gen: 1, accepted: [], gettoken: 0, hung: [] };
function wecomApi(req, res, body) {
  const url = new URL(req.url, 'http://x');
  const answer = (obj, status = 200) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
  if (url.pathname === '/cgi-bin/gettoken') {
    wecom.gettoken++;
    if (url.searchParams.get('corpsecret') !== WECOM.secret) return answer({ errcode: 40001, errmsg: 'invalid credential' });
    return answer({ errcode: 0, access_token: `tok${wecom.gen}`, expires_in: 7200 });
  }
  if (url.pathname !== '/cgi-bin/message/send') return answer({ errcode: 0, errmsg: 'ok' });
  if (url.searchParams.get('access_token') !== `tok${wecom.gen}`) return answer({ errcode: 42001, errmsg: 'access_token expired' });
  if (faultsOn()) {
    const r = rnd();
    if (r < 0.04) { fault('wecom_http_502'); res.writeHead(502); return res.end('bad gateway'); }
    if (r < 0.06) { fault('wecom_busy'); return answer({ errcode: -1, errmsg: 'system busy' }); }
    if (r < 0.07) {
      // Delivered, never answered: the sender cannot know.
      fault('wecom_timeout');
      record();
      wecom.hung.push(res);
      return undefined;
    }
    if (r < 0.10) { fault('wecom_slow'); return setTimeout(() => answer(record()), 2000 + rnd() * 2000); }
  }
  return answer(record());

  function record() {
    const msg = JSON.parse(body.toString('utf8'));
    const msgid = `m${wecom.accepted.length + 1}`;
    wecom.accepted.push({ touser: msg.touser, msgid });
    return { errcode: 0, errmsg: 'ok', msgid, invaliduser: '' };
  }
}
// During fault windows the access token is revoked every 20 s (another process refreshed it, or
// WeCom expired it early): the sender must refresh once and retry.
setInterval(() => { if (faultsOn()) { wecom.gen++; fault('wecom_token_expired'); } }, 20_000).unref();

// ---------------------------------------------------------------------------------------------
// Fake Tencent Cloud SMS: accepted sends by SessionContext (duijie's "dj<outbox id>").
const sms = { accepted: [], refused: 0, serial: 0, hung: [] };
function tencentApi(req, res, body) {
  const answer = (obj, status = 200) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
  const expected = Sign.sign3({
    method: 'POST', url: `http://${req.headers.host.split(':')[0]}/`, payload: body, timestamp: Number(req.headers['x-tc-timestamp']),
    service: 'sms', secretId: TENCENT.id, secretKey: TENCENT.key, headers: { 'Content-Type': req.headers['content-type'] },
  });
  if (req.headers.authorization !== expected) {
    sms.refused++;
    return answer({ Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'bad signature' }, RequestId: 'r' } });
  }
  const p = JSON.parse(body.toString('utf8'));
  if (req.headers['x-tc-action'] === 'PullSmsSendStatusByPhoneNumber') {
    const set = sms.accepted.filter((s) => s.phone === p.PhoneNumber)
      .map((s) => ({ SerialNo: s.ref, PhoneNumber: s.phone, ReportStatus: 'SUCCESS', SessionContext: s.session }));
    return answer({ Response: { PullSmsSendStatusSet: set, RequestId: 'r' } });
  }
  const phone = p.PhoneNumberSet[0];
  const rec = { phone, session: p.SessionContext, ref: '' };
  if (faultsOn()) {
    const r = rnd();
    if (r < 0.04) { fault('sms_http_500'); res.writeHead(500); return res.end('boom'); }
    if (r < 0.06) { fault('sms_limit'); return answer({ Response: { Error: { Code: 'RequestLimitExceeded', Message: 'qps' }, RequestId: 'r' } }); }
    if (r < 0.07) { fault('sms_timeout'); accept(rec); sms.hung.push(res); return undefined; }
    if (r < 0.10) { fault('sms_slow'); return setTimeout(() => answer(accept(rec)), 2000 + rnd() * 2000); }
  }
  return answer(accept(rec));

  function accept(r) {
    r.ref = `5000:${++sms.serial}`;  // Tencent's SerialNo: unique, given when it takes the message
    sms.accepted.push(r);
    scheduleReceipt(r);
    return { Response: { SendStatusSet: [{ SerialNo: r.ref, PhoneNumber: r.phone, Fee: 1, SessionContext: r.session, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }], RequestId: 'r' } };
  }
}

// ---------------------------------------------------------------------------------------------
// The SMTP server: accepted messages by Message-ID.
const mail = { accepted: [] };
function startSmtp(cert, key) {
  const server = new SMTPServer({
    key, cert, authMethods: ['PLAIN', 'LOGIN'], logger: false, size: 10 << 20,
    onAuth(auth, session, cb) {
      if (auth.username !== SMTP_USER || auth.password !== SMTP_PASSWORD) return cb(new Error('Invalid username or password'));
      return cb(null, { user: SMTP_USER });
    },
    onRcptTo(address, session, cb) {
      if (address.address.startsWith('gone')) return cb(Object.assign(new Error('5.1.1 user unknown'), { responseCode: 550 }));
      return cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('latin1');
        const id = (raw.match(/^Message-ID:\s*<([^>]+)>/im) || [])[1] || '';
        if (faultsOn()) {
          const r = rnd();
          if (r < 0.03) { fault('smtp_451'); return cb(Object.assign(new Error('4.3.0 try again later'), { responseCode: 451 })); }
          if (r < 0.04) {
            // Taken, then the connection drops before the answer: the sender cannot know.
            fault('smtp_dropped');
            mail.accepted.push(id);
            return session && server.connections && [...server.connections].forEach((c) => c.id === session.id && c._socket.destroy());
          }
          if (r < 0.07) { fault('smtp_slow'); return setTimeout(() => { mail.accepted.push(id); cb(null, 'queued'); }, 3000); }
        }
        mail.accepted.push(id);
        return cb(null, 'queued');
      });
    },
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---------------------------------------------------------------------------------------------
// duijie, the child.
const duijie = { child: null, port: 0, lifetimes: [], restarts: 0 };
let env = {};
function startDuijie() {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, ['serve'], { env, cwd: WORK, stdio: ['ignore', 'ignore', 'pipe'] });
    const out = fs.createWriteStream(path.join(WORK, `duijie-${duijie.lifetimes.length}.log`));
    let buffer = '';
    const life = { pid: child.pid, started: elapsed(), samples: [] };
    duijie.lifetimes.push(life);
    child.stderr.on('data', (d) => {
      out.write(d);
      if (duijie.port && duijie.child === child) return;
      buffer += d.toString();
      const m = buffer.match(/"msg":"listening".*?"address":"127\.0\.0\.1:(\d+)"/);
      if (m) { duijie.port = Number(m[1]); duijie.child = child; life.idle_fds = fdCount(child.pid); resolve(); }
    });
    child.on('exit', (code, signal) => {
      life.ended = elapsed();
      life.exit = signal || code;
      if (!duijie.port || duijie.child !== child) reject(new Error(`duijie exited (${signal || code}) before listening; see ${WORK}`));
    });
  });
}
async function killAndRestart() {
  const child = duijie.child;
  log(`SIGKILL duijie (pid ${child.pid})`);
  duijie.port = 0;
  duijie.child = null;
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  duijie.restarts++;
  await new Promise((r) => setTimeout(r, 1000));
  await startDuijie();
  log(`duijie restarted on port ${duijie.port}`);
}
function fdCount(pid) { try { return fs.readdirSync(`/proc/${pid}/fd`).length; } catch { return null; } }
function rssKb(pid) {
  try { return Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]); } catch { return null; }
}
setInterval(() => {
  const c = duijie.child;
  if (!c) return;
  duijie.lifetimes[duijie.lifetimes.length - 1].samples.push({ t: elapsed(), rss_kb: rssKb(c.pid), fds: fdCount(c.pid) });
}, 5000).unref();

// ---------------------------------------------------------------------------------------------
// Requests to duijie, timed; a webhook that does not get its 200 is retried, as providers do.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const stats = {};  // by kind: {requests, ok, status: {}, errors, latencies: {calm: [], faults: []}}
function stat(kind) {
  stats[kind] = stats[kind] || { requests: 0, ok: 0, status: {}, errors: 0, latencies: { calm: [], faults: [] } };
  return stats[kind];
}
function request(kind, method, target, body, headers = {}) {
  const s = stat(kind);
  return new Promise((resolve) => {
    if (!duijie.port) { s.errors++; return resolve({ status: 0 }); }
    s.requests++;
    const t0 = process.hrtime.bigint();
    const phase = faultsOn() ? 'faults' : 'calm';
    const req = http.request({ host: '127.0.0.1', port: duijie.port, method, path: target, agent, timeout: 30_000,
      headers: { ...headers, ...(body ? { 'Content-Length': Buffer.byteLength(body) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        s.status[res.statusCode] = (s.status[res.statusCode] || 0) + 1;
        s.latencies[phase].push(Number(process.hrtime.bigint() - t0) / 1e6);
        if (res.statusCode >= 200 && res.statusCode < 300) s.ok++;
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', () => { s.errors++; resolve({ status: 0 }); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => { s.errors++; resolve({ status: 0 }); });
    if (body) req.write(body);
    req.end();
  });
}
// A webhook delivered until answered 2xx (20 tries, 1 s apart, as a provider would); resolves
// with whether it was accepted.
async function deliver(kind, method, target, body, headers) {
  for (let i = 0; i < 20; i++) {
    const r = await request(kind, method, target, body, headers);
    if (r.status >= 200 && r.status < 300) return r;
    await new Promise((res) => setTimeout(res, 1000));
  }
  stat(kind).given_up = (stat(kind).given_up || 0) + 1;
  return null;
}
const inflight = new Set();
function track(p) { inflight.add(p); p.finally(() => inflight.delete(p)); return p; }
// Sometimes a provider delivers the same webhook twice: at once, or a little later.
function maybeTwice(kind, fn) {
  track(fn());
  if (rnd() < 0.1) { fault(`${kind}_delivered_twice`); setTimeout(() => track(fn()), rnd() < 0.5 ? 0 : 500 + rnd() * 3000); }
}

// WeCom callbacks: members of the operator's corp talking to the app.
const inbound = { wecom: new Map(), sms: new Map(), email: new Map(), receipts: new Map() };
const WECOM_TEXTS = ['你好', '帮助', '菜单', '我的需求', '状态', '我们需要锂电池低温性能提升方案', '取消', '1', '企业', '发布需求'];
let msgSerial = 7_100_000_000_000_000_000n;
function wecomCallback() {
  const user = `soakuser${Math.floor(rnd() * WECOM_USERS)}`;
  const msgId = String(++msgSerial);
  const now = Math.floor(Date.now() / 1000);
  const plain = `<xml><ToUserName><![CDATA[${WECOM.corp}]]></ToUserName><FromUserName><![CDATA[${user}]]></FromUserName>` +
    `<CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[${WECOM_TEXTS[Math.floor(rnd() * WECOM_TEXTS.length)]}]]></Content>` +
    `<MsgId>${msgId}</MsgId><AgentID>${WECOM.agent}</AgentID></xml>`;
  const enc = encrypt(WECOM.key, plain, WECOM.corp);
  const nonce = crypto.randomBytes(8).toString('hex');
  const sig = getSignature(WECOM.token, now, nonce, enc);
  const body = `<xml><ToUserName><![CDATA[${WECOM.corp}]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt><AgentID><![CDATA[${WECOM.agent}]]></AgentID></xml>`;
  const target = `/wecom/callback?msg_signature=${sig}&timestamp=${now}&nonce=${nonce}`;
  inbound.wecom.set(msgId, false);
  maybeTwice('wecom_callback', () => deliver('wecom_callback', 'POST', target, body, { 'Content-Type': 'text/xml' })
    .then((r) => { if (r) inbound.wecom.set(msgId, true); }));
}

// SMS replies from researchers, in Tencent's reply callback format.
let researchers = [];
const SMS_TEXTS = ['1', '2', '你好', '帮助', '状态', '有意向', '暂不考虑', '我想了解一下'];
let smsTime = Math.floor(Date.now() / 1000);
function smsReply() {
  const who = researchers.filter((r) => r.mobile)[Math.floor(rnd() * RESEARCHERS / 2)];
  if (!who) return;
  const text = SMS_TEXTS[Math.floor(rnd() * SMS_TEXTS.length)];
  const time = ++smsTime;
  const body = JSON.stringify({ extend: '', mobile: who.mobile, nationcode: '86', sign: '科技服务', text, time });
  const key = `${who.mobile}:${time}`;
  inbound.sms.set(key, false);
  maybeTwice('sms_reply', () => deliver('sms_reply', 'POST', `/sms/tencent/${SMS_SECRET}/reply`, body, { 'Content-Type': 'application/json' })
    .then((r) => { if (r) inbound.sms.set(key, true); }));
}

// Delivery receipts for what Tencent accepted, 0.5-3 s later (duijie answers 503 to a receipt
// that outruns the send's own record; Tencent retries).
function scheduleReceipt(rec) {
  setTimeout(() => {
    const ok = rnd() < 0.95;
    const body = JSON.stringify([{ user_receive_time: '2026-11-23 10:00:00', nationcode: '86', mobile: rec.phone.replace(/^\+86/, ''),
      report_status: ok ? 'SUCCESS' : 'FAIL', errmsg: ok ? 'DELIVRD' : 'MK:0001', description: ok ? '用户短信送达成功' : '用户短信接收失败', sid: rec.ref }]);
    inbound.receipts.set(rec.ref, false);
    maybeTwice('sms_receipt', () => deliver('sms_receipt', 'POST', `/sms/tencent/${SMS_SECRET}/status`, body, { 'Content-Type': 'application/json' })
      .then((r) => { if (r) inbound.receipts.set(rec.ref, true); }));
  }, 500 + rnd() * 2500);
}

// Inbound mail from researchers, as the mail host posts it.
let mailSerial = 0;
function inboundMail() {
  const who = researchers.filter((r) => r.email && !r.email.startsWith('gone'))[Math.floor(rnd() * RESEARCHERS / 3)];
  if (!who) return;
  const id = `soak.${++mailSerial}.${crypto.randomBytes(4).toString('hex')}@hust.edu.cn`;
  const text = rnd() < 0.5 ? '1' : '您好，请问下一步怎么做？';
  const raw = [`From: =?UTF-8?B?${Buffer.from(who.name).toString('base64')}?= <${who.email}>`, 'To: reply@duijie.invalid',
    `Subject: =?UTF-8?B?${Buffer.from('回复：合同签订提醒').toString('base64')}?=`, `Message-ID: <${id}>`,
    `Date: ${new Date().toUTCString()}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64', '', Buffer.from(text).toString('base64'), ''].join('\r\n');
  inbound.email.set(id, false);
  maybeTwice('email_inbound', () => deliver('email_inbound', 'POST', `/email/inbound/${MAIL_SECRET}`, raw, { 'Content-Type': 'message/rfc822' })
    .then((r) => { if (r) inbound.email.set(id, true); }));
}

// Staff watching: admin API reads and the metrics scrape.
let apiToken = '';
const broadcastIds = [];
function adminRead() {
  const auth = { Authorization: `Bearer ${apiToken}` };
  const targets = ['/api/v1/broadcasts', '/metrics', '/readyz', '/api/v1/needs', '/api/v1/enterprises',
    ...broadcastIds.flatMap((id) => [`/api/v1/broadcasts/${id}`, `/api/v1/broadcasts/${id}/report`])];
  track(request('admin_read', 'GET', targets[Math.floor(rnd() * targets.length)], null, auth));
}

async function createBroadcast(key, body) {
  const r = await deliver('admin_write', 'POST', '/api/v1/broadcasts', JSON.stringify(body),
    { 'Content-Type': 'application/json', Authorization: `Bearer ${apiToken}`, 'Idempotency-Key': key });
  if (!r) throw new Error('the broadcast was not created');
  const id = JSON.parse(r.body).id;
  broadcastIds.push(id);
  log(`broadcast ${id} created (${body.title})`);
}

// ---------------------------------------------------------------------------------------------
// Set-up, run, drain, audit.
function sql(query) {
  const out = execFileSync('sqlite3', ['-readonly', '-json', path.join(WORK, 'duijie.db'), query], { encoding: 'utf8' });
  return out.trim() ? JSON.parse(out) : [];
}
function run(cmd, extra = []) { return execFileSync(BIN, [...cmd, ...extra], { env, cwd: WORK, encoding: 'utf8' }); }
function every(ms, fn) { const t = setInterval(() => { if (!stopping) fn(); }, ms); return t; }
function percentile(list, p) {
  if (!list.length) return null;
  const s = [...list].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(1));
}
const wait = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  fs.mkdirSync(WORK, { recursive: true });
  const keyFile = path.join(WORK, 'smtp.key');
  const certFile = path.join(WORK, 'smtp.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' });
  const smtp = await startSmtp(fs.readFileSync(certFile), fs.readFileSync(keyFile));
  const api = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith('/tencent')) return tencentApi(req, res, body);
      return wecomApi(req, res, body);
    });
  });
  await new Promise((r) => api.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${api.address().port}`;
  const templates = path.join(WORK, 'sms-templates.json');
  // The repository's templates, each given a (fake) approved id.
  const kinds = JSON.parse(fs.readFileSync(path.join(__dirname, '../../config/sms/templates.json'), 'utf8'));
  Object.keys(kinds).filter((k) => !k.startsWith('_')).forEach((k, i) => { kinds[k].tencent = String(1001 + i); });
  fs.writeFileSync(templates, JSON.stringify(kinds));
  env = {
    PATH: process.env.PATH,
    DUIJIE_HTTP_LISTEN: '127.0.0.1:0',
    DUIJIE_STORE_PATH: path.join(WORK, 'duijie.db'),
    DUIJIE_STORE_FILES_DIR: path.join(WORK, 'files'),
    DUIJIE_LOG_ACCESS: 'false',
    // Sends whose outcome is unknown are asked about quickly, and given up on (dead-lettered,
    // never resent) within the run where the provider cannot be asked (WeCom, SMTP).
    DUIJIE_DISPATCHER_RETRY_BASE_MS: '200',
    DUIJIE_DISPATCHER_RETRY_CAP_MS: '10000',
    DUIJIE_DISPATCHER_UNKNOWN_RECHECK_MS: '5000',
    DUIJIE_DISPATCHER_UNKNOWN_GIVE_UP_MS: '60000',
    DUIJIE_DISPATCHER_CLAIM_STALE_MS: '30000',
    DUIJIE_BROADCAST_TICK_MS: '1000',
    DUIJIE_WECOM_CORP_ID: WECOM.corp,
    DUIJIE_WECOM_TOKEN: WECOM.token,
    DUIJIE_WECOM_AES_KEY: WECOM.key,
    DUIJIE_WECOM_SECRET: WECOM.secret,
    DUIJIE_WECOM_AGENT_ID: WECOM.agent,
    DUIJIE_WECOM_API_BASE: base,
    DUIJIE_SMS_PROVIDER: 'tencent',
    DUIJIE_SMS_SIGN_NAME: '科技服务',
    DUIJIE_SMS_TENCENT_SECRET_ID: TENCENT.id,
    DUIJIE_SMS_TENCENT_SECRET_KEY: TENCENT.key,
    DUIJIE_SMS_TENCENT_SDK_APP_ID: TENCENT.app,
    DUIJIE_SMS_TENCENT_ENDPOINT: `${base}/tencent`,
    DUIJIE_SMS_CALLBACK_SECRET: SMS_SECRET,
    DUIJIE_SMS_TEMPLATES_FILE: templates,
    // The soak runs at any hour and sends each researcher more than one message an hour.
    DUIJIE_SMS_QUIET_HOURS: '',
    DUIJIE_SMS_PER_HOUR: '0',
    DUIJIE_SMS_PER_DAY: '0',
    DUIJIE_SMS_RATE_PER_S: '50',
    DUIJIE_SMS_BURST: '50',
    DUIJIE_EMAIL_SMTP_URL: `smtp://127.0.0.1:${smtp.server.address().port}`,
    DUIJIE_EMAIL_SMTP_USERNAME: SMTP_USER,
    DUIJIE_EMAIL_SMTP_PASSWORD: SMTP_PASSWORD,
    DUIJIE_EMAIL_SMTP_CA_FILE: certFile,
    DUIJIE_EMAIL_SMTP_TIMEOUT_MS: '5000',
    DUIJIE_EMAIL_RATE_PER_S: '30',
    DUIJIE_EMAIL_BURST: '30',
    DUIJIE_EMAIL_REPLY_ADDRESS: 'reply@duijie.invalid',
    DUIJIE_EMAIL_INBOUND_SECRET: MAIL_SECRET,
  };

  // Researchers: half reachable by SMS, the rest by email (a few addresses bounce for good); the
  // first 300 are also members of the operator's WeCom corp, the ones talking to the app.
  researchers = Array.from({ length: RESEARCHERS }, (_, i) => ({
    name: `研究员${i + 1}`,
    mobile: i % 2 === 0 ? `139${String(10000000 + i).padStart(8, '0')}` : '',
    email: i % 2 === 1 ? `${i % 97 === 1 ? 'gone' : 'r'}${i}@hust.edu.cn` : '',
    wecom: i < WECOM_USERS ? `soakuser${i}` : '',
  }));
  const csv = ['姓名,手机,邮箱,企业微信,单位,人员类型,领域,地区',
    ...researchers.map((r) => `${r.name},${r.mobile},${r.email},${r.wecom},华中科技大学,高等学校在职科研人员,新材料,武汉市`)].join('\n');
  fs.writeFileSync(path.join(WORK, 'researchers.csv'), csv);
  run(['migrate']);
  process.stderr.write(run(['import', 'researchers', path.join(WORK, 'researchers.csv')]));
  apiToken = run(['token', 'create', '--name', 'soak', '--role', 'admin']).trim();

  await startDuijie();
  log(`duijie listening on ${duijie.port}; ${MINUTES} min of load, faults in every other ${PHASE_MS / 1000} s window`);
  const timers = [
    every(1000 / (25 * RATE), wecomCallback),
    every(1000 / (10 * RATE), smsReply),
    every(1000 / (3 * RATE), inboundMail),
    every(1000 / (10 * RATE), adminRead),
  ];
  await wait(10_000);
  await createBroadcast('soak-researchers', {
    title: '合同签订提醒', message: { text: '{name}您好，合同请于2月28日前签订，回复1确认。' },
    audience: { roles: ['researcher'] }, ack: { within_minutes: 5 }, channels: ['sms', 'email'], send_at: 'now' });
  const kills = [DURATION_MS / 3, (2 * DURATION_MS) / 3];
  // WeCom broadcasts to the researchers in the corp (the others have no WeCom address), each at
  // the start of a fault window, so WeCom's own faults meet them.
  const faultWindowAfter = (t) => (Math.ceil(t / PHASE_MS / 2 - 0.5) * 2 + 1) * PHASE_MS;
  const wecomBroadcasts = [faultWindowAfter(DURATION_MS * 0.4), faultWindowAfter(DURATION_MS * 0.75)]
    .filter((t) => t < DURATION_MS - 10_000);
  let wecomRound = 0;
  while (elapsed() < DURATION_MS) {
    if (kills.length && elapsed() >= kills[0]) { kills.shift(); await killAndRestart(); }
    if (wecomBroadcasts.length && elapsed() >= wecomBroadcasts[0]) {
      wecomBroadcasts.shift();
      await createBroadcast(`soak-wecom-${++wecomRound}`, { title: `申报提醒${wecomRound}`,
        message: { text: `{name}您好，需求征集将于12月31日截止（第${wecomRound}次提醒）。` },
        audience: { roles: ['researcher'] }, channels: ['wecom'], send_at: 'now' });
    }
    await wait(200);
  }
  stopping = true;
  timers.forEach(clearInterval);
  log('load stopped; waiting for webhooks in retry and for the outbox to drain');
  const drainStart = Date.now();
  while (inflight.size && Date.now() - drainStart < 60_000) await wait(500);
  let open = [];
  while (Date.now() - drainStart < DRAIN_MS) {
    open = sql("SELECT status, count(*) AS n FROM outbox WHERE status IN ('pending', 'sending', 'unknown') GROUP BY status");
    const receipts = [...inbound.receipts.values()].filter((v) => !v).length;
    if (!open.length && !inflight.size && !receipts) break;
    await wait(2000);
  }
  const drainedIn = Date.now() - drainStart;
  log(`drained in ${(drainedIn / 1000).toFixed(0)} s; stopping duijie`);
  agent.destroy();
  await wait(1000);  // the load's keep-alive connections closed on both sides
  const finalIdleFds = fdCount(duijie.child.pid);
  const child = duijie.child;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  wecom.hung.forEach((r) => r.destroy());
  sms.hung.forEach((r) => r.destroy());

  const summary = audit({ drainedIn, open, finalIdleFds });
  fs.writeFileSync(path.join(WORK, 'summary.json'), JSON.stringify(summary, null, 2));
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  smtp.close(() => {});
  api.close();
  process.exit(summary.losses === 0 && summary.duplicates === 0 ? 0 : 1);
}

function audit({ drainedIn, open, finalIdleFds }) {
  const problems = [];
  // Inbound: every webhook duijie accepted is in the inbox once and was processed.
  const inboxByChannel = Object.fromEntries(sql(`SELECT channel || ':' || CASE WHEN provider_key LIKE 'tencent:receipt:%' THEN 'receipt' ELSE 'message' END AS k,
    count(*) AS n, sum(deliveries) AS deliveries, sum(status NOT IN ('processed', 'ignored')) AS unprocessed FROM inbox GROUP BY k`).map((r) => [r.k, r]));
  const acceptedCount = (m) => [...m.values()].filter(Boolean).length;
  const wecomKeys = new Set(sql("SELECT provider_key AS k FROM inbox WHERE channel = 'wecom'").map((r) => r.k));
  const wecomMissing = [...inbound.wecom].filter(([id, ok]) => ok && ![...wecomKeys].some((k) => k === id || k.endsWith(`:${id}`))).length;
  const inboundLosses = {
    wecom: wecomMissing,
    sms_replies: Math.max(0, acceptedCount(inbound.sms) - (inboxByChannel['sms:message']?.n || 0)),
    email: Math.max(0, acceptedCount(inbound.email) - (inboxByChannel['email:message']?.n || 0)),
    unprocessed: Object.values(inboxByChannel).reduce((a, r) => a + r.unprocessed, 0),
  };
  // Outbound: every message ended delivered, sent or dead-lettered with a reason.
  const outbox = sql('SELECT channel, status, count(*) AS n FROM outbox GROUP BY channel, status');
  const notFinal = outbox.filter((r) => ['pending', 'sending', 'unknown'].includes(r.status)).reduce((a, r) => a + r.n, 0);
  const noReason = sql("SELECT count(*) AS n FROM outbox WHERE status IN ('failed', 'dead') AND coalesce(last_error, '') = ''")[0].n;
  const inFlight = sql("SELECT count(*) AS n FROM outbox_attempts WHERE outcome = 'in_flight'")[0].n;
  // A receipt taken but matched to nothing while its message exists: the delivery went unrecorded.
  const receiptsDropped = sql(`SELECT count(*) AS n FROM inbox i WHERE i.provider_key LIKE 'tencent:receipt:%'
    AND i.status = 'ignored' AND EXISTS (SELECT 1 FROM outbox o WHERE o.provider_ref = json_extract(i.payload, '$.provider_ref')
    AND o.status = 'sent')`)[0].n;
  // SMS: Tencent's record by SessionContext; the receipts that said FAIL leave 'failed' rows.
  const smsCounts = new Map();
  sms.accepted.forEach((s) => smsCounts.set(s.session, (smsCounts.get(s.session) || 0) + 1));
  const smsDuplicates = [...smsCounts.values()].filter((n) => n > 1).length;
  const smsClaimed = sql("SELECT id FROM outbox WHERE channel = 'sms' AND status IN ('sent', 'delivered')").map((r) => `dj${r.id}`);
  const smsLost = smsClaimed.filter((s) => !smsCounts.has(s)).length;
  // Mail: the SMTP server's record by Message-ID.
  const mailCounts = new Map();
  mail.accepted.forEach((id) => mailCounts.set(id, (mailCounts.get(id) || 0) + 1));
  const mailDuplicates = [...mailCounts.values()].filter((n) => n > 1).length;
  const mailClaimed = sql("SELECT provider_ref AS id FROM outbox WHERE channel = 'email' AND status IN ('sent', 'delivered')").map((r) => r.id);
  const mailLost = mailClaimed.filter((id) => !mailCounts.has(id)).length;
  // WeCom: message/send carries no key of ours, so per member: what WeCom accepted may not exceed
  // the messages that could have reached it (sent, or dead-lettered as unknown), and must cover
  // the ones duijie calls sent.
  const wecomAccepted = new Map();
  wecom.accepted.forEach((a) => wecomAccepted.set(a.touser, (wecomAccepted.get(a.touser) || 0) + 1));
  const wecomRows = sql(`SELECT recipient, sum(status IN ('sent', 'delivered')) AS sent,
    sum(status IN ('sent', 'delivered') OR (status = 'dead' AND last_error LIKE '%unknown%')) AS possible
    FROM outbox WHERE channel = 'wecom' GROUP BY recipient`);
  let wecomDuplicates = 0;
  let wecomLost = 0;
  for (const r of wecomRows) {
    const got = wecomAccepted.get(r.recipient) || 0;
    wecomDuplicates += Math.max(0, got - r.possible);
    wecomLost += Math.max(0, r.sent - got);
    wecomAccepted.delete(r.recipient);
  }
  wecomDuplicates += [...wecomAccepted.values()].reduce((a, n) => a + n, 0);  // sends nobody asked for

  const losses = Object.values(inboundLosses).reduce((a, n) => a + n, 0) + notFinal + noReason + inFlight + receiptsDropped +
    smsLost + mailLost + wecomLost;
  const duplicates = smsDuplicates + mailDuplicates + wecomDuplicates;
  if (losses) problems.push('losses');
  if (duplicates) problems.push('duplicates');

  // Memory and descriptors per process lifetime: growth after a minute of warm-up.
  const lifetimes = duijie.lifetimes.map((l) => {
    const warm = l.samples.filter((s) => s.t - l.started >= 60_000 && s.rss_kb);
    const first = warm[0];
    const last = warm[warm.length - 1];
    return {
      pid: l.pid, ran_s: Math.round(((l.ended ?? elapsed()) - l.started) / 1000), exit: l.exit,
      rss_mb_after_warmup: first ? +(first.rss_kb / 1024).toFixed(1) : null,
      rss_mb_at_end: last ? +(last.rss_kb / 1024).toFixed(1) : null,
      rss_mb_peak: l.samples.length ? +(Math.max(...l.samples.map((s) => s.rss_kb || 0)) / 1024).toFixed(1) : null,
      fds_idle_at_start: l.idle_fds,
      fds_max: l.samples.length ? Math.max(...l.samples.map((s) => s.fds || 0)) : null,
    };
  });
  const latency = Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, {
    requests: s.requests, ok: s.ok, status: s.status, connection_errors: s.errors, given_up: s.given_up || 0,
    p50_ms_calm: percentile(s.latencies.calm, 0.5), p99_ms_calm: percentile(s.latencies.calm, 0.99),
    p50_ms_faults: percentile(s.latencies.faults, 0.5), p99_ms_faults: percentile(s.latencies.faults, 0.99),
  }]));
  return {
    minutes: MINUTES, rate: RATE, restarts: duijie.restarts,
    requests: Object.values(stats).reduce((a, s) => a + s.requests, 0),
    faults_injected: faults, faults_total: Object.values(faults).reduce((a, n) => a + n, 0),
    losses, duplicates, problems,
    inbound: {
      accepted: { wecom: acceptedCount(inbound.wecom), sms_replies: acceptedCount(inbound.sms), email: acceptedCount(inbound.email),
        sms_receipts: acceptedCount(inbound.receipts) },
      inbox: inboxByChannel, losses: inboundLosses,
    },
    outbound: {
      by_channel_status: outbox, not_final_after_drain: notFinal, open_at_drain_end: open, dead_without_reason: noReason,
      attempts_left_in_flight: inFlight, receipts_dropped: receiptsDropped,
      providers_accepted: { wecom: wecom.accepted.length, sms: sms.accepted.length, email: mail.accepted.length },
      duplicates: { wecom: wecomDuplicates, sms: smsDuplicates, email: mailDuplicates },
      lost: { wecom: wecomLost, sms: smsLost, email: mailLost },
      wecom_gettoken_calls: wecom.gettoken, sms_bad_signatures: sms.refused,
    },
    drained_in_s: Math.round(drainedIn / 1000),
    lifetimes, fds_idle_at_end: finalIdleFds,
    latency,
  };
}

main().catch((e) => {
  process.stderr.write(`soak failed: ${e.stack || e}\n`);
  if (duijie.child) duijie.child.kill('SIGKILL');
  process.exit(2);
});
