// The peer for bench/wecom_callback.sh: a Node HTTP server doing what duijie's /wecom/callback
// does cryptographically — verify the signature, decrypt with the official @wecom/crypto, read the
// message, and answer with an encrypted, signed passive reply — one worker per core. It stores
// nothing (duijie also commits an inbox row before it answers).
//   node bench/wecom_node_peer.js PORT TOKEN KEY CORP
'use strict';
const cluster = require('cluster');
const http = require('http');
const os = require('os');
const path = require('path');
const { getSignature, encrypt, decrypt } = require(path.join(__dirname, '../tests/peers/node_modules/@wecom/crypto'));

const [port, token, key, corp] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5]];

if (cluster.isPrimary) {
  for (let i = 0; i < os.cpus().length; i++) cluster.fork();
} else {
  http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const enc = (body.match(/<Encrypt><!\[CDATA\[([^\]]*)\]\]><\/Encrypt>/) || [])[1];
      const ts = url.searchParams.get('timestamp');
      const nonce = url.searchParams.get('nonce');
      if (!enc || getSignature(token, ts, nonce, enc) !== url.searchParams.get('msg_signature')) {
        res.writeHead(403).end();
        return;
      }
      const { message, id } = decrypt(key, enc);
      if (id !== corp) {
        res.writeHead(403).end();
        return;
      }
      const from = (message.match(/<FromUserName><!\[CDATA\[([^\]]*)\]\]>/) || [])[1];
      const content = (message.match(/<Content><!\[CDATA\[([^\]]*)\]\]>/) || [])[1];
      const reply = `<xml><ToUserName><![CDATA[${from}]]></ToUserName><FromUserName><![CDATA[${corp}]]></FromUserName>` +
        `<CreateTime>${Math.floor(Date.now() / 1000)}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
        `<Content><![CDATA[已收到：${content}]]></Content></xml>`;
      const out = encrypt(key, reply, corp);
      const sig = getSignature(token, ts, nonce, out);
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(`<xml>\n<Encrypt><![CDATA[${out}]]></Encrypt>\n<MsgSignature><![CDATA[${sig}]]></MsgSignature>\n` +
        `<TimeStamp>${ts}</TimeStamp>\n<Nonce><![CDATA[${nonce}]]></Nonce>\n</xml>`);
    });
  }).listen(port, '127.0.0.1');
}
