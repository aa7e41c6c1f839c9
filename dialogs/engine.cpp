#include "dialogs/engine.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "common/digest.hpp"
#include "common/mask.hpp"
#include "matcher/normalize.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

enum class Command { kNone, kHelp, kCancel, kBack, kSkip, kMenu, kStatus, kYes, kNo };

Command ToCommand(const std::string& text) {
  struct Word {
    std::string_view word;
    Command command;
  };
  static constexpr std::array<Word, 30> kWords = {{
      {"帮助", Command::kHelp},     {"help", Command::kHelp},   {"?", Command::kHelp},
      {"？", Command::kHelp},       {"取消", Command::kCancel}, {"cancel", Command::kCancel},
      {"退出", Command::kCancel},   {"返回", Command::kBack},   {"back", Command::kBack},
      {"上一步", Command::kBack},   {"跳过", Command::kSkip},   {"skip", Command::kSkip},
      {"菜单", Command::kMenu},     {"menu", Command::kMenu},   {"状态", Command::kStatus},
      {"status", Command::kStatus}, {"进度", Command::kStatus}, {"是", Command::kYes},
      {"继续", Command::kYes},      {"确认", Command::kYes},    {"yes", Command::kYes},
      {"y", Command::kYes},         {"好", Command::kYes},      {"好的", Command::kYes},
      {"对", Command::kYes},        {"否", Command::kNo},       {"不", Command::kNo},
      {"放弃", Command::kNo},       {"no", Command::kNo},       {"n", Command::kNo},
  }};
  for (const auto& w : kWords) {
    if (text == w.word) return w.command;
  }
  return Command::kNone;
}

std::int64_t Ms(Clock::TimePoint t) { return ToUnixMillis(t); }

std::string Text(const TurnContext& ctx, std::string_view key, const json& params = json::object()) {
  return ctx.catalogue.Text(ctx.locale, key, params);
}

std::string Label(const FormSpec& form, const FieldSpec& field, const TurnContext& ctx) {
  return Text(ctx, "field." + form.id + "." + field.name);
}

std::string Show(const FieldSpec& field, const json& value, const TurnContext& ctx) {
  if (field.show) return field.show(value, ctx);
  if (value.is_string()) return value.get<std::string>();
  return value.dump();
}

json Idle() { return json{{"form", nullptr}}; }

std::vector<int> History(const json& state) { return state.value("history", std::vector<int>{}); }

}  // namespace

Engine::Engine(std::vector<FormSpec> forms) : forms_(std::move(forms)) {}

const FormSpec* Engine::Find(std::string_view id) const {
  for (const auto& f : forms_) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

bool Engine::Idle(const json& state) const { return !state.contains("form") || state["form"].is_null(); }

std::string Engine::Summary(const FormSpec& form, const json& state, const TurnContext& ctx) const {
  std::string out;
  const json values = state.value("values", json::object());
  for (std::size_t i = 0; i < form.fields.size(); ++i) {
    const auto& field = form.fields[i];
    const auto it = values.find(field.name);
    if (it == values.end()) continue;
    if (!out.empty()) out += "\n";
    out += std::to_string(i + 1) + ". " + Label(form, field, ctx) + "：" +
           (it->is_null() ? Text(ctx, "form.skipped") : Show(field, *it, ctx));
  }
  return out.empty() ? Text(ctx, "form.nothing_yet") : out;
}

void Engine::Ask(const FormSpec& form, json& state, Turn& turn, const TurnContext& ctx) const {
  const auto idx = state.value("field", 0);
  const auto& field = form.fields.at(static_cast<std::size_t>(idx));
  std::string question = Text(ctx, field.prompt);
  if (field.options) {
    const auto list = field.options(ctx);
    for (std::size_t i = 0; i < list.size(); ++i) question += "\n" + std::to_string(i + 1) + ". " + list[i].name;
  }
  const json values = state.value("values", json::object());
  if (const auto it = values.find(field.name); it != values.end() && !it->is_null()) {
    question += "\n" + Text(ctx, "form.current_value", {{"value", Show(field, *it, ctx)}});
  }
  if (field.optional) question += "\n" + Text(ctx, "form.optional_hint");
  turn.replies.push_back(std::move(question));
}

void Engine::AskConfirm(const FormSpec& form, json& state, Turn& turn, const TurnContext& ctx) const {
  state["confirming"] = true;
  std::string summary = Summary(form, state, ctx);
  if (form.preview) {
    if (const auto preview = form.preview(state.value("values", json::object()), ctx); !preview.empty()) {
      summary += "\n" + preview;
    }
  }
  turn.replies.push_back(Text(ctx, "form.confirm", {{"title", Text(ctx, form.title)}, {"summary", summary}}));
}

void Engine::Start(const FormSpec& form, json& state, Turn& turn, const TurnContext& ctx, const json& preset) const {
  state = json{{"form", form.id},          {"field", 0}, {"values", preset},
               {"history", json::array()}, {"tries", 0}, {"started_at", Ms(ctx.now)}};
  turn.replies.push_back(Text(ctx, "form.start." + form.id, preset));
  Ask(form, state, turn, ctx);
}

void Engine::Answer(const FormSpec& form, const std::string& text, json& state, Turn& turn,
                    const TurnContext& ctx) const {
  const auto idx = state.value("field", 0);
  const auto& field = form.fields.at(static_cast<std::size_t>(idx));
  Parsed parsed = field.parse(text, ctx);
  if (parsed.Ok() && field.check) {
    if (auto refused = field.check(*parsed.value, ctx)) parsed = std::move(*refused);
  }
  if (parsed.Ok() && field.cross_check) {
    if (auto refused = field.cross_check(*parsed.value, state.value("values", json::object()), ctx)) {
      parsed = std::move(*refused);
    }
  }
  if (!parsed.Ok()) {
    const int tries = state.value("tries", 0) + 1;
    std::string reply = Text(ctx, parsed.error, parsed.params);
    if (tries >= 3) {
      // Three misses in a row: explain instead of repeating the same complaint.
      reply += "\n" + Text(ctx, field.help) + "\n" + Text(ctx, "form.stuck");
      state["tries"] = 0;
    } else {
      state["tries"] = tries;
    }
    turn.replies.push_back(std::move(reply));
    return;
  }
  state["tries"] = 0;
  if (!field.verify.empty()) {
    const std::string address = parsed.value->get<std::string>();
    // A carrier delivered this SMS from the number: that proves it. A mail's From proves nothing.
    const bool written_from = field.verify == "mobile" && ctx.channel == "sms" && ctx.sender == address;
    if (!written_from && !ctx.facts.OwnsVerified(field.verify, address)) {
      SendCode(field.verify, address, state, turn, ctx);
      return;
    }
  }
  Accept(form, *parsed.value, state, turn, ctx);
}

namespace {

// The verification texts of an identity kind: "verify.sent" for a mobile, "verify.email.sent" for
// a mail address, each given the address masked.
std::string VerifyText(const TurnContext& ctx, const std::string& kind, std::string_view what,
                       const std::string& address, json params = json::object()) {
  const bool email = kind == "email";
  params[email ? "email" : "mobile"] = email ? MaskEmail(address) : MaskPhone(address);
  return Text(ctx, std::string(email ? "verify.email." : "verify.") + std::string(what), params);
}

// A verification saved by an older version names only the mobile.
std::string VerifyKind(const json& v) { return v.value("kind", std::string("mobile")); }
std::string VerifyAddress(const json& v) { return v.value("address", v.value("mobile", std::string())); }

}  // namespace

void Engine::SendCode(const std::string& kind, const std::string& address, json& state, Turn& turn,
                      const TurnContext& ctx) const {
  if (ctx.random == nullptr) throw std::logic_error("a form verifies an address but the turn has no randomness");
  std::string code;
  for (int i = 0; i < 6; ++i)
    code += static_cast<char>('0' + std::min(9, static_cast<int>(ctx.random->Uniform() * 10)));
  const std::int64_t now = Ms(ctx.now);
  const int tries = state.contains("verify") ? state["verify"].value("tries", 0) : 0;
  const auto validity = kind == "email" ? kEmailCodeValidity : kCodeValidity;
  // Only a digest is kept in the saved state.
  state["verify"] = {{"kind", kind},
                     {"address", address},
                     {"digest", Sha256Hex(code + ":" + address)},
                     {"expires_at", now + std::chrono::duration_cast<std::chrono::milliseconds>(validity).count()},
                     {"sent_at", now},
                     {"tries", tries}};
  turn.effects.push_back({"send_code",
                          {{"channel", kind == "email" ? "email" : "sms"},
                           {"address", address},
                           {"code", code},
                           {"minutes", validity.count()}}});
  turn.replies.push_back(VerifyText(ctx, kind, "sent", address));
}

void Engine::Verify(const FormSpec& form, const std::string& text, json& state, Turn& turn,
                    const TurnContext& ctx) const {
  json& v = state["verify"];
  const std::string kind = VerifyKind(v);
  const std::string address = VerifyAddress(v);
  const std::int64_t now = Ms(ctx.now);
  std::string digits;
  for (const char c : text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  const bool looks_like_code = digits.size() == 6 && text.size() <= 12;
  if (text == "重发" || text == "resend" || text == "重新发送") {
    const auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(kCodeResendAfter).count();
    const std::int64_t left = v.value("sent_at", std::int64_t{0}) + wait_ms - now;
    if (left > 0) {
      turn.replies.push_back(Text(ctx, "verify.wait", {{"seconds", (left + 999) / 1000}}));
      return;
    }
    SendCode(kind, address, state, turn, ctx);
    return;
  }
  if (!looks_like_code) {
    turn.replies.push_back(VerifyText(ctx, kind, "prompt", address));
    return;
  }
  if (now > v.value("expires_at", std::int64_t{0})) {
    turn.replies.push_back(Text(ctx, "verify.expired"));
    return;
  }
  if (!ConstantTimeEquals(Sha256Hex(digits + ":" + address), v.value("digest", ""))) {
    const int tries = v.value("tries", 0) + 1;
    if (tries >= kCodeTries) {
      state.erase("verify");
      turn.replies.push_back(VerifyText(ctx, kind, "too_many", address));
      Ask(form, state, turn, ctx);
      return;
    }
    v["tries"] = tries;
    turn.replies.push_back(Text(ctx, "verify.wrong", {{"left", kCodeTries - tries}}));
    return;
  }
  state.erase("verify");
  turn.effects.push_back({"verify_identity", {{"kind", kind}, {"address", address}}});
  turn.replies.push_back(VerifyText(ctx, kind, "done", address));
  Accept(form, json(address), state, turn, ctx);
}

void Engine::Accept(const FormSpec& form, const json& value, json& state, Turn& turn, const TurnContext& ctx) const {
  const auto idx = state.value("field", 0);
  const auto& field = form.fields.at(static_cast<std::size_t>(idx));
  state["values"][field.name] = value;
  state["tries"] = 0;
  if (state.contains("fix") && !state.value("editing", false)) {
    // Fixing a returned need: the next flagged field, then the preview.
    auto queue = state["fix"].get<std::vector<int>>();
    if (queue.empty()) {
      AskConfirm(form, state, turn, ctx);
      return;
    }
    state["field"] = queue.front();
    queue.erase(queue.begin());
    state["fix"] = queue;
    Ask(form, state, turn, ctx);
    return;
  }
  if (state.value("editing", false)) {
    state["editing"] = false;
    AskConfirm(form, state, turn, ctx);
    return;
  }
  auto history = History(state);
  history.push_back(idx);
  state["history"] = history;
  if (static_cast<std::size_t>(idx) + 1 >= form.fields.size()) {
    AskConfirm(form, state, turn, ctx);
    return;
  }
  state["field"] = idx + 1;
  Ask(form, state, turn, ctx);
}

void Engine::Confirm(const FormSpec& form, const std::string& text, json& state, Turn& turn,
                     const TurnContext& ctx) const {
  const Command command = ToCommand(text);
  if (command == Command::kYes) {
    json values = state.value("values", json::object());
    if (state.contains("fix_need_id")) {
      turn.effects.push_back({"resubmit_need", {{"need_id", state["fix_need_id"]}, {"values", values}}});
      turn.replies.push_back(Text(ctx, "done.need_fix", {{"title", values.value("title", "")}}));
      state = dialogs::Idle();
      return;
    }
    turn.effects.push_back({form.effect, values});
    if (!form.done.empty()) {
      json params = values;
      params["form_title"] = Text(ctx, form.title);
      turn.replies.push_back(Text(ctx, form.done, params));
    }
    state = dialogs::Idle();
    return;
  }
  // A field's number: change that one, then come back here.
  const auto number = ParseCount(text, 1, static_cast<int>(form.fields.size()));
  if (number.Ok()) {
    state["confirming"] = false;
    state["editing"] = true;
    state["field"] = number.value->get<int>() - 1;
    Ask(form, state, turn, ctx);
    return;
  }
  turn.replies.push_back(Text(ctx, "form.confirm_again", {{"count", form.fields.size()}}));
}

namespace {

// The top-level intents: a form to start, or a question the bot answers.
struct Phrase {
  std::string_view text;
  std::string_view target;  // a form id, or "needs"
};
constexpr std::array<Phrase, 31> kPhrases = {{{"注册企业", "enterprise_registration"},
                                              {"发通知", "staff_broadcast"},
                                              {"发送通知", "staff_broadcast"},
                                              {"群发通知", "staff_broadcast"},
                                              {"发广播", "staff_broadcast"},
                                              {"广播", "staff_broadcast"},
                                              {"广播进度", "broadcast_progress"},
                                              {"通知进度", "broadcast_progress"},
                                              {"删除草稿", "drop_draft"},
                                              {"推荐需求", "recommend"},
                                              {"匹配需求", "recommend"},
                                              {"有什么需求", "recommend"},
                                              {"修改需求", "fix"},
                                              {"修改技术需求", "fix"},
                                              {"企业注册", "enterprise_registration"},
                                              {"我是企业", "enterprise_registration"},
                                              {"注册科技人员", "researcher_registration"},
                                              {"科技人员注册", "researcher_registration"},
                                              {"我是科技人员", "researcher_registration"},
                                              {"专家注册", "researcher_registration"},
                                              {"发布需求", "need_posting"},
                                              {"发布技术需求", "need_posting"},
                                              {"新需求", "need_posting"},
                                              {"登记合同", "contract_record"},
                                              {"上传凭证", "evidence_upload"},
                                              {"提交凭证", "evidence_upload"},
                                              {"提交总结报告", "report_upload"},
                                              {"提交报告", "report_upload"},
                                              {"录入合同", "contract_record"},
                                              {"我的需求", "needs"},
                                              {"查看需求", "needs"}}};

}  // namespace

bool Engine::Understands(const std::string& text) const {
  const std::string t = matcher::NormalizeSpaces(text);
  // Outside a form, yes/no/back/skip/cancel mean nothing to the engine: "好的" is for the other side.
  const Command c = ToCommand(t);
  if (c == Command::kHelp || c == Command::kMenu || c == Command::kStatus) return true;
  if (t == "english" || t == "英文" || t == "中文" || t == "chinese") return true;
  return std::any_of(kPhrases.begin(), kPhrases.end(), [&t](const Phrase& p) { return p.text == t; });
}

bool Engine::Intent(const std::string& text, json& state, Turn& turn, const TurnContext& ctx, bool interrupting) const {
  for (const auto& p : kPhrases) {
    if (text != p.text) continue;
    // Staff commands exist for staff only: to anyone else they are ordinary words.
    if ((p.target == "staff_broadcast" || p.target == "broadcast_progress") && !ctx.facts.IsStaff()) return false;
    if (p.target == "broadcast_progress") {
      const auto lines = ctx.facts.StaffBroadcasts();
      std::string list;
      for (const auto& l : lines) list += (list.empty() ? "" : "\n") + l;
      turn.replies.push_back(lines.empty() ? Text(ctx, "staff.broadcast.none")
                                           : Text(ctx, "staff.broadcast.progress", {{"list", list}}));
      return true;
    }
    if (p.target == "needs") {
      const auto needs = ctx.facts.NeedSummaries();
      std::string list;
      for (std::size_t i = 0; i < needs.size(); ++i) list += (i ? "\n" : "") + std::to_string(i + 1) + ". " + needs[i];
      turn.replies.push_back(needs.empty() ? Text(ctx, "needs.none") : Text(ctx, "needs.list", {{"list", list}}));
      return true;
    }
    if (p.target == "recommend") {
      const auto found = ctx.facts.Recommendations();
      if (!found) {
        turn.replies.push_back(Text(ctx, "recommend.register_first"));
      } else if (found->empty()) {
        turn.replies.push_back(Text(ctx, "recommend.none"));
      } else {
        std::string list;
        for (std::size_t i = 0; i < found->size(); ++i) {
          const auto& r = (*found)[i];
          std::string why;
          for (const auto& t : r.terms) why += (why.empty() ? "" : "、") + t;
          if (!r.field.empty()) {
            std::string name = r.field;
            for (const auto& f : ctx.programme.fields) {
              if (f.id == r.field) name = f.name;
            }
            const std::string field = Text(ctx, "recommend.field", {{"field", name}});
            why += (why.empty() ? "" : "；") + field;
          }
          list += (i ? "\n" : "") + std::to_string(i + 1) + ". " +
                  (why.empty() ? r.title : Text(ctx, "recommend.item", {{"title", r.title}, {"why", why}}));
        }
        turn.replies.push_back(Text(ctx, "recommend.list", {{"list", list}}));
      }
      return true;
    }
    if (p.target == "fix") {
      if (interrupting) {
        turn.replies.push_back(
            Text(ctx, "form.busy", {{"title", Text(ctx, Find(state["form"].get<std::string>())->title)}}));
        return true;
      }
      const auto returned = ctx.facts.Returned();
      if (!returned) {
        turn.replies.push_back(Text(ctx, "needs.nothing_to_fix"));
        return true;
      }
      // Only the flagged fields are asked again; the rest is kept as it was.
      const FormSpec& form = *Find("need_posting");
      json queue = json::array();
      for (std::size_t i = 0; i < form.fields.size(); ++i) {
        if (std::find(returned->fields.begin(), returned->fields.end(), form.fields[i].name) !=
            returned->fields.end()) {
          queue.push_back(i);
        }
      }
      if (queue.empty()) queue.push_back(0);
      state = json{{"form", form.id},
                   {"field", queue.front()},
                   {"values", returned->values},
                   {"history", json::array()},
                   {"tries", 0},
                   {"fix", json(std::vector<json>(queue.begin() + 1, queue.end()))},
                   {"fix_need_id", returned->id}};
      turn.replies.push_back(Text(ctx, "form.start.need_fix", {{"title", returned->values.value("title", "")}}));
      Ask(form, state, turn, ctx);
      return true;
    }
    if (p.target == "contract_record" && !interrupting && ctx.facts.ChosenResearchers().empty()) {
      turn.replies.push_back(Text(ctx, "contract.none_chosen"));
      return true;
    }
    if ((p.target == "evidence_upload" || p.target == "report_upload") && !interrupting &&
        ctx.facts.OpenContracts().empty()) {
      turn.replies.push_back(Text(ctx, "contract.none_recorded"));
      return true;
    }
    if (p.target == "need_posting" && !interrupting && !ctx.facts.HasEnterprise()) {
      turn.replies.push_back(Text(ctx, "needs.register_first"));
      return true;
    }
    if (interrupting) {
      // Starting another form mid-form would lose this one: say so and stay.
      turn.replies.push_back(
          Text(ctx, "form.busy", {{"title", Text(ctx, Find(state["form"].get<std::string>())->title)}}));
      return true;
    }
    if (p.target == "drop_draft") {
      const bool had = state.contains("draft");
      state.erase("draft");
      turn.replies.push_back(Text(ctx, had ? "form.draft_dropped" : "form.no_draft"));
      return true;
    }
    const json draft = state.value("draft", json());
    if (p.target == "need_posting" && draft.is_object()) {
      const FormSpec& need = *Find("need_posting");
      state = json{{"form", need.id},
                   {"field", draft.value("field", 0)},
                   {"values", draft.value("values", json::object())},
                   {"history", draft.value("history", json::array())},
                   {"tries", 0},
                   {"started_at", Ms(ctx.now)}};
      turn.replies.push_back(Text(ctx, "form.draft_resumed", {{"count", state["values"].size()}}));
      Ask(need, state, turn, ctx);
      return true;
    }
    Start(*Find(p.target), state, turn, ctx);
    return true;
  }
  return false;
}

namespace {

// Whether a saved state has the types the engine reads from it. Numbers must be whole and small:
// reading 1e40 into an int is undefined behaviour, not an exception.
bool WellFormed(const json& state) {
  if (!state.is_object()) return true;  // anything but an object reads as idle
  const auto small = [](const json& v) {
    return v.is_number_integer() && v.get<std::int64_t>() >= -1'000'000 && v.get<std::int64_t>() <= 1'000'000;
  };
  const auto whole = [](const json& v) { return v.is_number_integer(); };
  const auto check = [](const json& object, std::initializer_list<const char*> keys, const auto& ok) {
    return std::all_of(keys.begin(), keys.end(), [&object, &ok](const char* k) {
      const auto it = object.find(k);
      return it == object.end() || it->is_null() || ok(*it);
    });
  };
  const auto small_list = [&small](const json& v) { return v.is_array() && std::all_of(v.begin(), v.end(), small); };
  const auto flag = [](const json& v) { return v.is_boolean(); };
  if (!check(state, {"field", "tries"}, small) || !check(state, {"updated_at", "started_at", "fix_need_id"}, whole) ||
      !check(state, {"history", "fix"}, small_list) ||
      !check(state, {"confirming", "editing", "awaiting_resume"}, flag)) {
    return false;
  }
  if (const auto d = state.find("draft"); d != state.end() && d->is_object()) {
    if (!check(*d, {"field"}, small) || !check(*d, {"history"}, small_list)) return false;
  }
  if (const auto v = state.find("verify"); v != state.end() && v->is_object()) {
    if (!check(*v, {"tries"}, small) || !check(*v, {"expires_at", "sent_at"}, whole)) return false;
  }
  return true;
}

}  // namespace

Turn Engine::Handle(const json& state_in, const InboundEvent& event, const TurnContext& ctx) const {
  if (!WellFormed(state_in)) return Reset(event, ctx);
  try {
    return HandleState(state_in, event, ctx);
  } catch (const json::exception&) {
    return Reset(event, ctx);
  } catch (const std::out_of_range&) {
    return Reset(event, ctx);  // a field index beyond the form
  }
}

Turn Engine::Begin(const json& state_in, std::string_view form_id, const json& preset, const TurnContext& ctx) const {
  const FormSpec* form = Find(form_id);
  if (form == nullptr) throw std::logic_error("no form " + std::string(form_id));
  Turn turn;
  json state = state_in.is_object() && WellFormed(state_in) ? state_in : dialogs::Idle();
  const json open_id = state.value("form", json());
  const FormSpec* open = open_id.is_string() ? Find(open_id.get<std::string>()) : nullptr;
  const std::int64_t now = Ms(ctx.now);
  const auto expires = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.form_expires).count();
  if (open != nullptr && now - state.value("updated_at", now) < expires) {
    // Starting another form would lose this one: the same answer as any interruption.
    turn.replies.push_back(Text(ctx, "form.busy", {{"title", Text(ctx, open->title)}}));
    try {
      if (state.value("confirming", false)) {
        AskConfirm(*open, state, turn, ctx);
      } else {
        Ask(*open, state, turn, ctx);
      }
    } catch (const std::exception&) {
      // A state the open form cannot read: the next message resets it (Handle).
    }
    turn.state = state_in;
    return turn;
  }
  const json draft = state.value("draft", json());
  Start(*form, state, turn, ctx, preset.is_object() ? preset : json::object());
  if (draft.is_object()) state["draft"] = draft;  // a need draft outlives a staff errand
  state["updated_at"] = now;
  turn.state = std::move(state);
  return turn;
}

// A saved state this version cannot read (left by an older version, or edited by hand): the
// person starts afresh, told so, instead of every message failing (found by fuzzing).
Turn Engine::Reset(const InboundEvent& event, const TurnContext& ctx) const {
  Turn turn = HandleState(dialogs::Idle(), event, ctx);
  turn.replies.insert(turn.replies.begin(), Text(ctx, "form.state_reset"));
  return turn;
}

Turn Engine::HandleState(const json& state_in, const InboundEvent& event, const TurnContext& ctx) const {
  Turn turn;
  json state = state_in.is_object() ? state_in : dialogs::Idle();
  const FormSpec* form = Idle(state) ? nullptr : Find(state["form"].get<std::string>());
  if (form == nullptr) {
    // Idle, but a need draft kept from a cancelled form stays until it is resumed or deleted.
    const json draft = state.value("draft", json());
    state = dialogs::Idle();
    if (draft.is_object()) state["draft"] = draft;
  }
  const std::int64_t now = Ms(ctx.now);
  const std::int64_t last = state.value("updated_at", now);

  // A form left too long is dropped; one left for a while asks before going on.
  if (form != nullptr &&
      now - last >= std::chrono::duration_cast<std::chrono::milliseconds>(ctx.form_expires).count()) {
    turn.replies.push_back(Text(ctx, "form.expired", {{"title", Text(ctx, form->title)}}));
    state = dialogs::Idle();
    form = nullptr;
  }
  const auto finish = [&]() {
    state["updated_at"] = now;
    turn.state = std::move(state);
    return std::move(turn);
  };

  if (event.kind == "event") {
    if (event.event == "subscribe" || event.event == "enter_agent") {
      if (form != nullptr) {
        Ask(*form, state, turn, ctx);
      } else {
        turn.replies.push_back(Text(ctx, "welcome"));
      }
    }
    if (turn.replies.empty()) {
      turn.state = state;  // an event nobody answers does not count as activity
      return turn;
    }
    return finish();
  }
  const bool asking = form != nullptr && !state.value("confirming", false) && !state.value("awaiting_resume", false) &&
                      !state.contains("verify");
  if (asking && (event.kind == "file" || !event.attachments.empty()) &&
      form->fields.at(static_cast<std::size_t>(state.value("field", 0))).file) {
    // The file the open question asks for: a WeCom media id, or the SHA-256 of a mail's first
    // attachment (already stored; the mail's words around it do not matter here).
    const std::string ref = event.attachments.empty() ? event.text : event.attachments.front();
    Accept(*form, json{{"ref", ref}, {"channel", ctx.channel}}, state, turn, ctx);
    return finish();
  }
  if (event.kind != "text") {
    if (form != nullptr) {
      turn.replies.push_back(Text(ctx, "form.text_please"));
      Ask(*form, state, turn, ctx);
    } else {
      turn.replies.push_back(Text(ctx, event.kind == "file" ? "echo.file_received" : "echo.unsupported"));
    }
    return finish();
  }

  const std::string text = matcher::NormalizeSpaces(event.text);
  const Command command = ToCommand(text);

  // The person's language, remembered (the runner stores it); the open question is asked again
  // in the new language.
  const std::string locale = text == "english" || text == "英文"   ? "en"
                             : text == "中文" || text == "chinese" ? std::string(Catalogue::kDefaultLocale)
                                                                   : std::string();
  if (!locale.empty()) {
    TurnContext switched = ctx;
    switched.locale = locale;
    turn.effects.push_back({"set_locale", {{"locale", locale}}});
    turn.replies.push_back(Text(switched, "locale.switched"));
    if (form != nullptr && !state.value("awaiting_resume", false)) {
      if (state.value("confirming", false)) {
        AskConfirm(*form, state, turn, switched);
      } else {
        Ask(*form, state, turn, switched);
      }
    }
    return finish();
  }

  if (form != nullptr && !state.value("awaiting_resume", false) &&
      now - last >= std::chrono::duration_cast<std::chrono::milliseconds>(ctx.resume_after).count()) {
    state["awaiting_resume"] = true;
    turn.replies.push_back(
        Text(ctx, "form.resume", {{"title", Text(ctx, form->title)}, {"summary", Summary(*form, state, ctx)}}));
    return finish();
  }
  if (form != nullptr && state.value("awaiting_resume", false)) {
    if (command == Command::kYes) {
      state.erase("awaiting_resume");
      if (state.value("confirming", false)) {
        AskConfirm(*form, state, turn, ctx);
      } else {
        Ask(*form, state, turn, ctx);
      }
    } else if (command == Command::kNo || command == Command::kCancel) {
      turn.replies.push_back(Text(ctx, "form.cancelled", {{"title", Text(ctx, form->title)}}));
      state = dialogs::Idle();
    } else {
      turn.replies.push_back(Text(ctx, "form.resume_again"));
    }
    return finish();
  }

  if (form == nullptr) {
    if (command == Command::kHelp || command == Command::kMenu) {
      turn.replies.push_back(Text(ctx, "menu"));
    } else if (command == Command::kStatus) {
      turn.replies.push_back(Text(ctx, "status.idle"));
    } else if (!Intent(text, state, turn, ctx, false)) {
      turn.replies.push_back(Text(ctx, "fallback"));
    }
    return finish();
  }

  const bool confirming = state.value("confirming", false);
  if (state.contains("verify") && !confirming) {
    if (command == Command::kBack) {
      // Another number: the mobile question again.
      state.erase("verify");
      Ask(*form, state, turn, ctx);
      return finish();
    }
    if (command != Command::kCancel && command != Command::kHelp && command != Command::kMenu &&
        command != Command::kStatus) {
      Verify(*form, text, state, turn, ctx);
      return finish();
    }
  }
  switch (command) {
    case Command::kHelp: {
      if (confirming) {
        turn.replies.push_back(Text(ctx, "form.confirm_help", {{"count", form->fields.size()}}));
        break;
      }
      const auto& field = form->fields.at(state.value("field", 0));
      turn.replies.push_back(Text(ctx, field.help) + "\n" + Text(ctx, "form.commands"));
      Ask(*form, state, turn, ctx);
      break;
    }
    case Command::kCancel: {
      const json values = state.value("values", json::object());
      if (form->id == "need_posting" && !state.contains("fix_need_id") && !values.empty()) {
        // A need half described is kept: "发布需求" resumes it, "删除草稿" drops it.
        const json draft = {
            {"values", values}, {"field", state.value("field", 0)}, {"history", state.value("history", json::array())}};
        state = dialogs::Idle();
        state["draft"] = draft;
        turn.replies.push_back(Text(ctx, "form.draft_saved", {{"count", values.size()}}));
        break;
      }
      turn.replies.push_back(Text(ctx, "form.cancelled", {{"title", Text(ctx, form->title)}}));
      state = dialogs::Idle();
      break;
    }
    case Command::kBack: {
      auto history = History(state);
      state["tries"] = 0;
      if (confirming || state.value("editing", false)) {
        state["confirming"] = false;
        state["editing"] = false;
        state["field"] = history.empty() ? 0 : history.back();
        if (!history.empty()) history.pop_back();
      } else if (!history.empty()) {
        state["field"] = history.back();
        history.pop_back();
      } else {
        turn.replies.push_back(Text(ctx, "form.back_first"));
      }
      state["history"] = history;
      Ask(*form, state, turn, ctx);
      break;
    }
    case Command::kSkip: {
      if (confirming) {
        turn.replies.push_back(Text(ctx, "form.confirm_again", {{"count", form->fields.size()}}));
        break;
      }
      const int idx = state.value("field", 0);
      const auto& field = form->fields.at(static_cast<std::size_t>(idx));
      if (!field.optional) {
        turn.replies.push_back(Text(ctx, "form.required", {{"field", Label(*form, field, ctx)}}));
        Ask(*form, state, turn, ctx);
        break;
      }
      state["values"][field.name] = nullptr;
      state["tries"] = 0;
      const bool editing = state.value("editing", false);
      if (editing || static_cast<std::size_t>(idx) + 1 >= form->fields.size()) {
        state["editing"] = false;
        if (!editing) {
          auto history = History(state);
          history.push_back(idx);
          state["history"] = history;
        }
        AskConfirm(*form, state, turn, ctx);
        break;
      }
      auto history = History(state);
      history.push_back(idx);
      state["history"] = history;
      state["field"] = idx + 1;
      Ask(*form, state, turn, ctx);
      break;
    }
    case Command::kMenu:
      turn.replies.push_back(Text(ctx, "menu") + "\n" + Text(ctx, "form.paused", {{"title", Text(ctx, form->title)}}));
      if (confirming) {
        AskConfirm(*form, state, turn, ctx);
      } else {
        Ask(*form, state, turn, ctx);
      }
      break;
    case Command::kStatus:
      turn.replies.push_back(
          Text(ctx, "form.status", {{"title", Text(ctx, form->title)}, {"summary", Summary(*form, state, ctx)}}));
      if (confirming) {
        AskConfirm(*form, state, turn, ctx);
      } else {
        Ask(*form, state, turn, ctx);
      }
      break;
    default:
      if (Intent(text, state, turn, ctx, true)) {
        // Interrupted: answered; now back to the open question.
        if (confirming) {
          AskConfirm(*form, state, turn, ctx);
        } else {
          Ask(*form, state, turn, ctx);
        }
      } else if (confirming) {
        Confirm(*form, text, state, turn, ctx);
      } else {
        Answer(*form, event.text, state, turn, ctx);
      }
      break;
  }
  return finish();
}

}  // namespace duijie::dialogs
