// WeCom's side of the callback cryptography, done by the official @wecom/crypto package, so the
// integration tests check duijie against the real peer rather than against itself.
//   node wecom_peer.js '{"op":"seal", "key":..., "token":..., "receiveid":..., "timestamp":..., "nonce":..., "messages":[...]}'
//     -> [{"encrypt":..., "signature":...}, ...]
//   node wecom_peer.js '{"op":"sign", "token":..., "timestamp":..., "nonce":..., "encrypt":...}' -> {"signature":...}
//   node wecom_peer.js '{"op":"open", "key":..., "token":..., "reply": "<xml>...</xml>"}'
//     -> {"signature_ok": true, "message": ..., "id": ..., "timestamp": ..., "nonce": ...}
'use strict';
const { getSignature, encrypt, decrypt } = require('@wecom/crypto');

const req = JSON.parse(process.argv[2]);
let out;
if (req.op === 'seal') {
  out = req.messages.map((message) => {
    const enc = encrypt(req.key, message, req.receiveid);
    return { encrypt: enc, signature: getSignature(req.token, req.timestamp, req.nonce, enc) };
  });
} else if (req.op === 'sign') {
  out = { signature: getSignature(req.token, req.timestamp, req.nonce, req.encrypt) };
} else if (req.op === 'open') {
  const field = (name) => {
    const m = req.reply.match(new RegExp(`<${name}>(?:<!\\[CDATA\\[)?([^<\\]]*)(?:\\]\\]>)?</${name}>`));
    return m ? m[1] : null;
  };
  const enc = field('Encrypt');
  const timestamp = field('TimeStamp');
  const nonce = field('Nonce');
  const signature = field('MsgSignature');
  const opened = decrypt(req.key, enc);
  out = {
    signature_ok: getSignature(req.token, timestamp, nonce, enc) === signature,
    message: opened.message,
    id: opened.id,
    timestamp,
    nonce,
  };
} else {
  throw new Error(`unknown op ${req.op}`);
}
process.stdout.write(JSON.stringify(out));
