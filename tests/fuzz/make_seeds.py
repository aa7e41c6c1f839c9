#!/usr/bin/env python3
"""Writes the committed seed corpora of the fuzz targets from the test fixtures and the spec's
official vectors. Run again after adding a fixture; the files are small and reviewed like code."""
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def wecom_vectors():
    spec = os.path.join(ROOT, "..", "shared", "specs", "wecom.md")
    if not os.path.exists(spec):
        return []
    text = open(spec, encoding="utf-8").read()
    out = []
    for block in re.findall(r"\{\s*\"id\": \"[A-Z]\d\".*?\n \}", text, re.S):
        try:
            out.append(json.loads(block))
        except json.JSONDecodeError:
            pass
    return out


def main():
    # Inputs that once crashed a target stay: they are regression tests (regression-*).
    for dirpath, _, files in os.walk(OUT):
        for f in files:
            if not f.startswith("regression-"):
                os.remove(os.path.join(dirpath, f))
    corp = "ww1436e0e65a779aee"
    for v in wecom_vectors():
        put("wecom_crypto", v["id"], "\0".join([v["msg_signature"], v["timestamp"], v["nonce"], v["encrypt"]]))
        put("wecom_envelope", v["id"], f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
            f"<Encrypt><![CDATA[{v['encrypt']}]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")
        put("wecom_envelope", v["id"] + "_reply", f"<xml><Encrypt><![CDATA[{v['encrypt']}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{v['msg_signature']}]]></MsgSignature><TimeStamp>{v['timestamp']}</TimeStamp>"
            f"<Nonce><![CDATA[{v['nonce']}]]></Nonce></xml>")
        if v.get("plaintext", "").startswith("<xml>"):
            put("wecom_plaintext", v["id"], v["plaintext"])
    head = f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName>" \
           "<CreateTime>1700000000</CreateTime>"
    tail = "<AgentID>1000002</AgentID></xml>"
    for name, body in {
        "text": "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[发布需求]]></Content><MsgId>1234567890123456</MsgId>",
        "image": "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://p.qpic.cn/x]]></PicUrl>"
                 "<MediaId><![CDATA[media1]]></MediaId><MsgId>2</MsgId>",
        "file": "<MsgType><![CDATA[file]]></MsgType><MediaId><![CDATA[m]]></MediaId><MsgId>3</MsgId>",
        "location": "<MsgType><![CDATA[location]]></MsgType><Location_X>30.5</Location_X><Location_Y>114.3</Location_Y>"
                    "<Scale>15</Scale><Label><![CDATA[武汉]]></Label><MsgId>4</MsgId>",
        "link": "<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[t]]></Title><Url><![CDATA[https://a.cn]]></Url>"
                "<MsgId>5</MsgId>",
        "subscribe": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>",
        "click": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[menu]]></EventKey>",
        "card": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
                "<EventKey><![CDATA[ack:7]]></EventKey><TaskId><![CDATA[bc-7-1]]></TaskId>"
                "<ResponseCode><![CDATA[RC1]]></ResponseCode>",
        "contact": "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_contact]]></Event>"
                   "<ChangeType><![CDATA[update_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID>",
    }.items():
        put("wecom_plaintext", name, head + body + tail)
    put("wecom_envelope", "plain", head + tail)

    sms = {
        0: '[{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13711112222",'
           '"report_status":"SUCCESS","errmsg":"DELIVRD","description":"用户短信送达成功","sid":"x1","ext":{"out_id":"duijie:42"}}]',
        1: '{"extend":"","mobile":"13711112222","nationcode":"86","sign":"科技服务","text":"1 A7K","time":1457336869}',
        2: '[{"phone_number":"13711112222","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1",'
           '"biz_id":"12345","out_id":"duijie:42","send_time":"2017-01-01 11:12:13","report_time":"2017-01-01 11:12:14"}]',
        3: '[{"phone_number":"13711112222","content":"TD","send_time":"2017-09-01 00:00:00","dest_code":"1234",'
           '"sequence_id":1234567890,"sign_name":"科技服务"}]',
        4: "MessageSid=SM1&From=+14155550100&To=+14155550199&Body=Y",
        5: "MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003",
    }
    for selector, body in sms.items():
        put("sms_callbacks", f"kind{selector}", bytes([selector]) + body.encode("utf-8"))

    for i, text in enumerate(["1", "Y", "是", "接受", "有意向", "2", "不", "暂不考虑", "N", "TD", "退订", "R",
                              "回复1 A7K", "１ａ７ｋ", "1。", "  y！", "我想了解一下", "确认", "收到"]):
        put("reply_grammar", f"r{i}", text)

    for i, text in enumerate(["二十万", "0.5百万", "200000元", "20万", "一百二十五万元", "明年3月底", "2026-03-31",
                              "3月", "下个月15号", "91350100M000100Y43", "+8613812345678", "13812345678",
                              "zhang.san@example.edu.cn", "三", "12", "新能源", "新材料、医药", "1,2",
                              "昨天", "前天", "12月20日"]):
        put("form_values", f"v{i}", text)

    put("wecom_kf", "page", json.dumps({"errcode": 0, "errmsg": "ok", "next_cursor": "4gw7MepFLfgF2VC5npN", "has_more": 1,
        "msg_list": [
            {"msgid": "from_msgid_4622416642169452483", "open_kfid": "wkAJ2GCAAASSm4_FhToWMFea0xAFfd3Q",
             "external_userid": "wmAJ2GCAAAme1XQRC-NI-q0_ZM9ukoAw", "send_time": 1615478585, "origin": 3,
             "msgtype": "text", "text": {"content": "你好，我想发布需求"}},
            {"msgid": "e1", "send_time": 1615478586, "origin": 4, "msgtype": "event",
             "event": {"event_type": "enter_session", "open_kfid": "wk1", "external_userid": "wm1",
                       "scene": "123", "welcome_code": "aaaaaa"}},
            {"msgid": "i1", "open_kfid": "wk1", "external_userid": "wm1", "send_time": 1, "origin": 3,
             "msgtype": "image", "image": {"media_id": "2iSLeVyqzk4eX0IB5kTi9Ljfa2rt9dwfq5WKRQ4Nvvgw"}}]},
        ensure_ascii=False))
    example = os.path.join(ROOT, "config", "duijie.example.json")
    put("config_file", "example", open(example, "rb").read())
    put("config_file", "env", "{}\0HTTP_LISTEN\0127.0.0.1:0")
    put("config_file", "quiet", '{"sms": {"quiet_hours": "22:00-08:00"}}\0SMS_QUIET_HOURS\023:30-07:00')
    put("config_file", "comments", '// comment\n{"store": {"path": "x.db"}, /* c */ "http": {"max_body_bytes": 1048576}}')
    for i, doc in enumerate([
        {"roles": ["enterprise_contact", "researcher"]},
        {"roles": ["enterprise_contact"], "regions": ["hb01"], "stage": "published_no_contract"},
        {"stage": "report_not_filed", "milestone": "report", "due_within_days": 10},
        {"fields": ["energy"], "statuses": ["verified"], "units": [1, 2], "people": [3]},
        {"name": "report_due", "variables": ["deadline"], "title": "总结报告提醒",
         "text": {"zh-CN": "{name}，请于{deadline}前提交。", "en": "{name}, by {deadline}."},
         "wecom": {"format": "markdown", "text": "**{name}**"},
         "sms": {"template": "reminder", "params": {"text": "{name}，{deadline}截止。"}},
         "email": {"subject": "提醒", "html": "<p>{name}</p>"}},
        {"name": "card", "title": "t", "text": "x", "wecom": {"format": "card", "url": "https://a.cn"}},
    ]):
        put("admin_bodies", f"b{i}", json.dumps(doc, ensure_ascii=False))
    need = {"form": "need_posting", "field": 2, "values": {"title": "高镍正极材料循环寿命提升",
            "problem": "循环500次后容量衰减超过20%"}, "history": [0, 1], "tries": 1, "started_at": 1795305000000,
            "updated_at": 1795305500000}
    confirming = dict(need, field=7, confirming=True, values=dict(need["values"], targets="循环1000次", category="product",
                      field="energy", amount=20.0, deadline="2027-03-31"))
    for i, (state, text) in enumerate([
        ({}, "注册企业"), ({}, "发布需求"), ({}, "发通知"), (need, "循环1000次容量保持率不低于90%"), (need, "返回"),
        (need, "帮助"), (confirming, "确认"), (confirming, "3"), (dict(need, awaiting_resume=True), "继续"),
        ({"form": "staff_broadcast", "field": 1, "values": {"audience": "role:researcher"}, "history": [0]},
         "{name}您好"),
        ({"form": "enterprise_registration", "field": 6, "values": {}, "verifying": {"mobile": "+8613812345678",
          "code_hash": "x", "expires_at": 1, "tries": 4}}, "123456"),
        ({"draft": {"field": 3, "values": {"title": "t"}}}, "发布需求"), ([], "菜单"), ({"form": 7}, "取消"),
    ]):
        put("conversation_state", f"s{i}", json.dumps(state, ensure_ascii=False) + "\0" + text)

    mail = os.path.join(ROOT, "tests", "data", "email")
    for name in sorted(os.listdir(mail)):
        if name.endswith(".eml"):
            put("email_mime", name, open(os.path.join(mail, name), "rb").read())
    put("email_mime", "encoded_word", "=?GBK?B?xOO6ww==?= <a@b.cn>, =?utf-8?Q?=E4=BD=A0?= <c@d.cn>")
    put("email_mime", "charset", b"gb18030\0\xc4\xe3\xba\xc3")


if __name__ == "__main__":
    main()
