// Pre-generates distinct WeCom callbacks (sealed and signed by the official @wecom/crypto) as a
// wrk Lua script that cycles through them.
//   node bench/wecom_gen.js COUNT TOKEN KEY CORP > callbacks.lua
'use strict';
const path = require('path');
const { getSignature, encrypt } = require(path.join(__dirname, '../tests/peers/node_modules/@wecom/crypto'));

const [count, token, key, corp] = [Number(process.argv[2]), process.argv[3], process.argv[4], process.argv[5]];
const now = Math.floor(Date.now() / 1000);
const lines = ['local reqs = {}'];
for (let i = 0; i < count; i++) {
  const user = `user${i % 500}`;
  const msgId = 7000000000000000000n + BigInt(i);
  const plain = `<xml><ToUserName><![CDATA[${corp}]]></ToUserName><FromUserName><![CDATA[${user}]]></FromUserName>` +
    `<CreateTime>${now}</CreateTime><MsgType><![CDATA[text]]></MsgType>` +
    `<Content><![CDATA[我们需要锂电池低温性能提升方案，第${i}号需求]]></Content><MsgId>${msgId}</MsgId><AgentID>1000002</AgentID></xml>`;
  const enc = encrypt(key, plain, corp);
  const nonce = String(1000000000 + i);
  const sig = getSignature(token, now, nonce, enc);
  const body = `<xml><ToUserName><![CDATA[${corp}]]></ToUserName><Encrypt><![CDATA[${enc}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>`;
  lines.push(`reqs[${i + 1}] = {"/wecom/callback?msg_signature=${sig}&timestamp=${now}&nonce=${nonce}", [=[${body}]=]}`);
}
lines.push(`local n = ${count}
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", reqs[i][1], {["Content-Type"] = "application/xml"}, reqs[i][2])
end`);
process.stdout.write(lines.join('\n') + '\n');
