// Loopback fake SMS providers for duijie's integration tests and benchmarks. Every request duijie
// sends is checked with the vendors' own code: Tencent's TC3 signature recomputed by
// tencentcloud-sdk-nodejs-common's signer, Alibaba's V1 signature by @alicloud/pop-core's own
// normalize/canonicalize/encode, Twilio's Basic auth; a request that does not verify is refused
// the way the provider would refuse it. Faults are switched per provider through /_mode.
// Usage: node sms_fake.js  -> prints "listening <port>" on stderr.
'use strict';
const http = require('http');
const fs = require('fs');
const path = require('path');
const Module = require('module');
const crypto = require('crypto');
const Sign = require('tencentcloud-sdk-nodejs-common/tencentcloud/common/sign').default;
const twilio = require('twilio');

// pop-core keeps its RPC signing helpers private: load its own source and expose them unchanged.
function popCoreSigner() {
  const file = require.resolve('@alicloud/pop-core/lib/rpc.js');
  const src = fs.readFileSync(file, 'utf8') + '\nmodule.exports.__signing = { normalize, canonicalize, encode };';
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  m._compile(src, file);
  return { ...m.exports.__signing, kitx: m.require('kitx') };
}
const pop = popCoreSigner();

const creds = {
  tencent: { id: 'AKIDfake', key: 'tencent-fake-secret' },
  aliyun: { id: 'LTAIfake', secret: 'aliyun-fake-secret' },
  twilio: { sid: 'ACfake', token: 'twilio-fake-token' },
};
const modes = { tencent: 'ok', aliyun: 'ok', twilio: 'ok' };
const sent = [];  // what each provider accepted
const refused = [];  // requests whose signature did not verify
let serial = 0;
const waiters = [];  // long polls: answered once sent + refused reach a count
function settle() {
  for (let i = waiters.length - 1; i >= 0; --i) {
    if (sent.length + refused.length >= waiters[i].count) { waiters[i].done(); waiters.splice(i, 1); }
  }
}

function tencentVerify(req, body) {
  const auth = req.headers['authorization'] || '';
  const ts = Number(req.headers['x-tc-timestamp']);
  const expected = Sign.sign3({
    method: 'POST', url: `http://${req.headers.host.split(':')[0]}/`, payload: body, timestamp: ts,
    service: 'sms', secretId: creds.tencent.id, secretKey: creds.tencent.key,
    headers: { 'Content-Type': req.headers['content-type'] },
  });
  return auth === expected;
}

function aliyunVerify(params) {
  const { Signature, ...rest } = params;
  const normalized = pop.normalize(rest);
  const stringToSign = `POST&${pop.encode('/')}&${pop.encode(pop.canonicalize(normalized))}`;
  return Signature === pop.kitx.sha1(stringToSign, creds.aliyun.secret + '&', 'base64');
}

function reply(res, status, obj, type = 'application/json') {
  const text = typeof obj === 'string' ? obj : JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

// A fault decided by the mode: answers the request (or not) and says whether it was "sent".
function fault(provider, res) {
  const m = modes[provider];
  if (m === 'http500') { reply(res, 500, 'boom', 'text/plain'); return true; }
  if (m === 'timeout') { sent.push({ provider, lost: true }); return true; }  // accepted, never answered
  return false;
}

function tencent(req, res, body) {
  const action = req.headers['x-tc-action'];
  if (!tencentVerify(req, body)) {
    refused.push({ provider: 'tencent', action });
    return reply(res, 200, { Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'bad signature' }, RequestId: 'r' } });
  }
  const p = JSON.parse(body.toString('utf8'));
  if (action === 'PullSmsSendStatusByPhoneNumber') {
    const set = sent.filter((s) => s.provider === 'tencent' && s.phone === p.PhoneNumber)
      .map((s) => ({ SerialNo: s.ref, PhoneNumber: s.phone, ReportStatus: 'SUCCESS', SessionContext: s.session }));
    return reply(res, 200, { Response: { PullSmsSendStatusSet: set, RequestId: 'r' } });
  }
  if (typeof p.SmsSdkAppId !== 'string' || !Array.isArray(p.PhoneNumberSet)) {
    return reply(res, 200, { Response: { Error: { Code: 'InvalidParameter', Message: 'types' }, RequestId: 'r' } });
  }
  const m = modes.tencent;
  if (m === 'limit') return reply(res, 200, { Response: { Error: { Code: 'RequestLimitExceeded', Message: 'qps' }, RequestId: 'r' } });
  const record = { provider: 'tencent', phone: p.PhoneNumberSet[0], template: p.TemplateId, params: p.TemplateParamSet,
    sign: p.SignName, session: p.SessionContext, extend: p.ExtendCode, ref: `5000:${++serial}` };
  if (m === 'timeout') { record.lost = true; sent.push(record); return; }
  if (fault('tencent', res)) return;
  if (m === 'blacklist') {
    return reply(res, 200, { Response: { SendStatusSet: [{ SerialNo: '', PhoneNumber: record.phone, Fee: 0, Code: 'FailedOperation.PhoneNumberInBlacklist', Message: 'blacklist' }], RequestId: 'r' } });
  }
  sent.push(record);
  reply(res, 200, { Response: { SendStatusSet: [{ SerialNo: record.ref, PhoneNumber: record.phone, Fee: 1, SessionContext: record.session, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }], RequestId: 'r' } });
}

function aliyun(req, res, body) {
  const params = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  if (!aliyunVerify(params)) {
    refused.push({ provider: 'aliyun', action: params.Action });
    return reply(res, 400, { Code: 'SignatureDoesNotMatch', Message: 'bad signature', RequestId: 'r' });
  }
  if (params.Action === 'QuerySendDetails') {
    const list = sent.filter((s) => s.provider === 'aliyun' && s.phone === params.PhoneNumber)
      .map((s) => ({ OutId: s.session, SendStatus: 3, PhoneNum: s.phone, ErrCode: 'DELIVERED' }));
    return reply(res, 200, { Code: 'OK', SmsSendDetailDTOs: { SmsSendDetailDTO: list }, TotalCount: list.length });
  }
  const record = { provider: 'aliyun', phone: params.PhoneNumbers, template: params.TemplateCode,
    params: params.TemplateParam ? JSON.parse(params.TemplateParam) : {}, sign: params.SignName,
    session: params.OutId, extend: params.SmsUpExtendCode, ref: `${++serial}^0` };
  if (modes.aliyun === 'timeout') { record.lost = true; sent.push(record); return; }
  if (fault('aliyun', res)) return;
  sent.push(record);
  reply(res, 200, { Code: 'OK', Message: 'OK', BizId: record.ref, RequestId: 'r' });
}

function twilioApi(req, res, body, url) {
  const expected = 'Basic ' + Buffer.from(`${creds.twilio.sid}:${creds.twilio.token}`).toString('base64');
  if (req.headers['authorization'] !== expected || !url.startsWith(`/2010-04-01/Accounts/${creds.twilio.sid}/`)) {
    refused.push({ provider: 'twilio' });
    return reply(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
  }
  if (req.method === 'GET' && url.split('?')[0].endsWith('/Messages.json')) {
    // The Message list, newest first, filtered by To as Twilio's API does.
    const to = new URL(url, 'http://x').searchParams.get('To');
    const messages = sent.filter((s) => s.provider === 'twilio' && s.phone === to).reverse()
      .map((s) => ({ sid: s.ref, to: s.phone, from: s.from, body: s.body, status: 'delivered' }));
    return reply(res, 200, { messages, page: 0, page_size: 50 });
  }
  const p = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
  const record = { provider: 'twilio', phone: p.To, body: p.Body, from: p.From, callback: p.StatusCallback,
    ref: 'SM' + crypto.randomBytes(16).toString('hex') };
  if (modes.twilio === 'timeout') { record.lost = true; sent.push(record); return; }  // accepted, never answered
  if (fault('twilio', res)) return;
  sent.push(record);
  reply(res, 201, { sid: record.ref, status: 'queued', to: p.To });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = req.url;
    res.on('finish', settle);
    try {
      if (url === '/_sent') return reply(res, 200, { sent, refused });
      if (url.startsWith('/_wait')) {
        const count = Number(new URL(url, 'http://x').searchParams.get('count'));
        const w = { count, done: () => { clearTimeout(w.timer); reply(res, 200, { sent, refused }); } };
        w.timer = setTimeout(() => { waiters.splice(waiters.indexOf(w), 1); reply(res, 200, { sent, refused }); }, 15000);
        waiters.push(w);
        return settle();
      }
      if (url === '/_mode') { Object.assign(modes, JSON.parse(body.toString('utf8'))); return reply(res, 200, modes); }
      if (url === '/_twilio_sign') {
        const q = JSON.parse(body.toString('utf8'));
        return reply(res, 200, { signature: twilio.getExpectedTwilioSignature(q.token, q.url, q.params) });
      }
      if (url.startsWith('/tencent')) return tencent(req, res, body);
      if (url.startsWith('/aliyun')) return aliyun(req, res, body);
      if (url.startsWith('/twilio')) return twilioApi(req, res, body, url.slice('/twilio'.length));
      reply(res, 404, { error: 'no route' });
    } catch (e) {
      reply(res, 500, { error: String(e) });
    }
  });
});
server.listen(0, '127.0.0.1', () => process.stderr.write(`listening ${server.address().port}\n`));
