// duijie's forms: what the programme asks of enterprises and researchers, field by field.
// Lists and thresholds come from the programme definition; texts from the catalogue.
#include <sstream>

#include "dialogs/engine.hpp"
#include "dialogs/templates.hpp"

namespace duijie::dialogs {
namespace {

using nlohmann::json;

FieldSpec Text(const std::string& form, std::string name, int min, int max, bool optional = false) {
  FieldSpec f;
  f.prompt = "ask." + form + "." + name;
  f.help = "help." + form + "." + name;
  f.name = std::move(name);
  f.optional = optional;
  f.parse = [min, max](std::string_view text, const TurnContext&) { return ParseText(text, min, max); };
  return f;
}

FieldSpec With(FieldSpec f, std::function<Parsed(std::string_view, const TurnContext&)> parse) {
  f.parse = std::move(parse);
  return f;
}

// A choice from one of the programme's lists; shown by name.
using ListOf = const std::vector<Choice>& (*)(const Programme&);
const std::vector<Choice>& Regions(const Programme& p) { return p.regions; }
const std::vector<Choice>& Fields(const Programme& p) { return p.fields; }
const std::vector<Choice>& Categories(const Programme& p) { return p.categories; }

// The five kinds of technology contract (五技合同) the programme funds.
const std::vector<Choice>& ContractTypes(const Programme& /*programme*/) {
  static const std::vector<Choice> kTypes = {{"development", "技术开发", {"开发"}},
                                             {"transfer", "技术转让", {"转让"}},
                                             {"licensing", "技术许可", {"许可"}},
                                             {"consulting", "技术咨询", {"咨询"}},
                                             {"service", "技术服务", {"服务"}}};
  return kTypes;
}

// What proves a contract was carried out (the summary report has a form of its own).
const std::vector<Choice>& EvidenceKinds(const Programme& /*programme*/) {
  static const std::vector<Choice> kKinds = {{"contract", "合同", {"技术合同", "合同扫描件"}},
                                             {"invoice", "发票", {"增值税发票"}},
                                             {"payment_proof", "转账凭证", {"银行转账凭证", "转账", "付款凭证"}}};
  return kKinds;
}

FieldSpec ChoiceField(const std::string& form, std::string name, ListOf list) {
  FieldSpec f = Text(form, std::move(name), 1, 1);
  f.parse = [list](std::string_view text, const TurnContext& ctx) { return ParseChoice(text, list(ctx.programme)); };
  f.show = [list](const json& v, const TurnContext& ctx) {
    return ChoiceName(list(ctx.programme), v.get<std::string>());
  };
  f.options = [list](const TurnContext& ctx) { return list(ctx.programme); };
  return f;
}

// An optional email address, proved by a code sent to it: mail to it reaches the person, and a
// mail from it continues their conversation.
FieldSpec VerifiedEmail(const std::string& form) {
  auto f = With(Text(form, "email", 1, 1, true), [](std::string_view t, const TurnContext&) { return ParseEmail(t); });
  f.verify = "email";
  return f;
}

std::string Wan(const json& v) { return FormatWan(v.get<double>()) + "万元"; }

std::vector<FormSpec> Build() {
  std::vector<FormSpec> forms;

  FormSpec enterprise{"enterprise_registration",
                      "form.title.enterprise_registration",
                      {},
                      "done.enterprise_registration",
                      "register_enterprise",
                      {}};
  const std::string e = enterprise.id;
  enterprise.fields.push_back(Text(e, "name", 2, 60));
  auto credit =
      With(Text(e, "credit_code", 1, 1), [](std::string_view t, const TurnContext&) { return ParseCreditCode(t); });
  credit.check = [](const json& v, const TurnContext& ctx) -> std::optional<Parsed> {
    if (ctx.facts.CreditCodeTaken(v.get<std::string>())) return Parsed::Error("invalid.credit_code_taken");
    return std::nullopt;
  };
  enterprise.fields.push_back(std::move(credit));
  enterprise.fields.push_back(ChoiceField(e, "region", Regions));
  enterprise.fields.push_back(ChoiceField(e, "industry", Fields));
  enterprise.fields.push_back(Text(e, "sme_number", 4, 40, true));
  enterprise.fields.push_back(Text(e, "contact_name", 2, 20));
  auto enterprise_mobile =
      With(Text(e, "mobile", 1, 1), [](std::string_view t, const TurnContext&) { return ParseMobile(t); });
  enterprise_mobile.verify = "mobile";  // the programme asks for a verified contact mobile
  enterprise.fields.push_back(std::move(enterprise_mobile));
  enterprise.fields.push_back(VerifiedEmail(e));
  forms.push_back(std::move(enterprise));

  FormSpec researcher{"researcher_registration",
                      "form.title.researcher_registration",
                      {},
                      "done.researcher_registration",
                      "register_researcher",
                      {}};
  const std::string r = researcher.id;
  researcher.fields.push_back(Text(r, "name", 2, 20));
  researcher.fields.push_back(Text(r, "unit", 2, 60));
  researcher.fields.push_back(Text(r, "title", 2, 20, true));
  auto eligibility = Text(r, "eligibility", 1, 1);
  eligibility.parse = [](std::string_view text, const TurnContext& ctx) {
    auto parsed = ParseChoice(text, ctx.programme.EligibilityChoices());
    if (!parsed.Ok()) return parsed;
    const auto* type = ctx.programme.FindEligibility(parsed.value->get<std::string>());
    if (type != nullptr && !type->eligible) return Parsed::Error("invalid.ineligible", {{"rule", type->rule}});
    return parsed;
  };
  eligibility.show = [](const json& v, const TurnContext& ctx) {
    return ChoiceName(ctx.programme.EligibilityChoices(), v.get<std::string>());
  };
  eligibility.options = [](const TurnContext& ctx) { return ctx.programme.EligibilityChoices(); };
  researcher.fields.push_back(std::move(eligibility));
  auto fields = Text(r, "fields", 1, 1);
  fields.parse = [](std::string_view text, const TurnContext& ctx) {
    return ParseChoices(text, ctx.programme.fields, 1, ctx.programme.max_fields);
  };
  fields.show = [](const json& v, const TurnContext& ctx) {
    std::string out;
    for (const auto& id : v) out += (out.empty() ? "" : "、") + ChoiceName(ctx.programme.fields, id.get<std::string>());
    return out;
  };
  fields.options = [](const TurnContext& ctx) { return ctx.programme.fields; };
  researcher.fields.push_back(std::move(fields));
  researcher.fields.push_back(Text(r, "keywords", 2, 100));
  researcher.fields.push_back(Text(r, "bio", 10, 500));
  researcher.fields.push_back(ChoiceField(r, "region", Regions));
  researcher.fields.push_back(
      With(Text(r, "capacity", 1, 1), [](std::string_view t, const TurnContext&) { return ParseCount(t, 1, 10); }));
  auto researcher_mobile =
      With(Text(r, "mobile", 1, 1), [](std::string_view t, const TurnContext&) { return ParseMobile(t); });
  researcher_mobile.verify = "mobile";  // pushes go to it
  researcher.fields.push_back(std::move(researcher_mobile));
  researcher.fields.push_back(VerifiedEmail(r));
  forms.push_back(std::move(researcher));

  FormSpec need{"need_posting", "form.title.need_posting", {}, "done.need_posting", "submit_need", {}};
  const std::string n = need.id;
  need.fields.push_back(Text(n, "title", 4, 50));
  need.fields.push_back(Text(n, "problem", 10, 1000));
  need.fields.push_back(Text(n, "targets", 10, 1000));
  need.fields.push_back(Text(n, "constraints", 4, 1000, true));
  need.fields.push_back(ChoiceField(n, "category", Categories));
  need.fields.push_back(ChoiceField(n, "field", Fields));
  auto amount = Text(n, "amount", 1, 1);
  amount.parse = [](std::string_view t, const TurnContext& ctx) {
    return ParseAmountWan(t, ctx.programme.minimum_amount_wan);
  };
  amount.show = [](const json& v, const TurnContext&) { return Wan(v); };
  need.fields.push_back(std::move(amount));
  need.fields.push_back(With(Text(n, "deadline", 1, 1),
                             [](std::string_view t, const TurnContext& ctx) { return ParseDate(t, ctx.today); }));
  forms.push_back(std::move(need));

  // Staff on WeCom send a broadcast: who, what, whether to ask for a confirmation; the preview
  // before 确认 shows how many it reaches. Broadcast rules (caps, quiet hours, opt-outs, the
  // staff member's region) are those of the admin API.
  FormSpec broadcast{
      "staff_broadcast", "form.title.staff_broadcast", {}, "done.staff_broadcast", "staff_broadcast", {}};
  const std::string b = broadcast.id;
  auto audience = Text(b, "audience", 1, 1);
  audience.parse = [](std::string_view text, const TurnContext& ctx) {
    return ParseChoice(text, ctx.facts.StaffAudiences());
  };
  audience.show = [](const json& v, const TurnContext& ctx) {
    return ChoiceName(ctx.facts.StaffAudiences(), v.get<std::string>());
  };
  audience.options = [](const TurnContext& ctx) { return ctx.facts.StaffAudiences(); };
  broadcast.fields.push_back(std::move(audience));
  auto message = Text(b, "message", 1, 1);
  // A template by its number, or the text itself.
  message.parse = [](std::string_view text, const TurnContext& ctx) {
    const auto templates = ctx.facts.StaffTemplates();
    if (!templates.empty()) {
      if (auto number = ParseCount(text, 1, static_cast<int>(templates.size())); number.Ok()) {
        return Parsed::Value(json{{"template", templates[number.value->get<std::size_t>() - 1].id}});
      }
    }
    auto parsed = ParseText(text, 4, 500);
    if (!parsed.Ok()) return parsed;
    const std::string body = parsed.value->get<std::string>();
    if (HasLink(body)) return Parsed::Error("invalid.broadcast_link");
    for (const auto& ph : Placeholders(body)) {
      if (ph != "name") return Parsed::Error("invalid.broadcast_placeholder", {{"bad", "{" + ph + "}"}});
    }
    return Parsed::Value(json{{"text", body}});
  };
  message.show = [](const json& v, const TurnContext& ctx) {
    if (v.contains("template")) return ChoiceName(ctx.facts.StaffTemplates(), v["template"].get<std::string>());
    return v.value("text", std::string());
  };
  message.options = [](const TurnContext& ctx) { return ctx.facts.StaffTemplates(); };
  broadcast.fields.push_back(std::move(message));
  auto ack = Text(b, "ack", 1, 1);
  const auto ack_choices = [](const TurnContext& ctx) {
    return std::vector<Choice>{{"yes", ctx.catalogue.Text(ctx.locale, "staff.ack.yes"), {"是", "需要", "yes"}},
                               {"no", ctx.catalogue.Text(ctx.locale, "staff.ack.no"), {"否", "不需要", "no"}}};
  };
  ack.parse = [ack_choices](std::string_view text, const TurnContext& ctx) {
    return ParseChoice(text, ack_choices(ctx));
  };
  ack.show = [ack_choices](const json& v, const TurnContext& ctx) {
    return ChoiceName(ack_choices(ctx), v.get<std::string>());
  };
  ack.options = ack_choices;
  broadcast.fields.push_back(std::move(ack));
  broadcast.preview = [](const json& values, const TurnContext& ctx) { return ctx.facts.BroadcastPreview(values); };
  forms.push_back(std::move(broadcast));

  // The enterprise records the technology contract signed with a chosen researcher's unit (the
  // unit is the other party): the researcher, the kind among the 五技合同, the amount, the
  // signing day, and the funding asked of the programme, each held to the edition's limits
  // (Hubei: funding at most the contract and 10万, one funded project per enterprise; Jilin: at
  // most 2 researchers from one unit per enterprise, support only for contracts from 30万).
  FormSpec contract{"contract_record", "form.title.contract_record", {}, "", "record_contract", {}};
  const std::string k = contract.id;
  auto researcher_pick = Text(k, "researcher", 1, 1);
  researcher_pick.parse = [](std::string_view text, const TurnContext& ctx) {
    return ParseChoice(text, ctx.facts.ChosenResearchers());
  };
  researcher_pick.show = [](const json& v, const TurnContext& ctx) {
    return ChoiceName(ctx.facts.ChosenResearchers(), v.get<std::string>());
  };
  researcher_pick.options = [](const TurnContext& ctx) { return ctx.facts.ChosenResearchers(); };
  researcher_pick.check = [](const json& v, const TurnContext& ctx) -> std::optional<Parsed> {
    const int limit = ctx.programme.raw.value("researcher", json::object()).value("max_per_enterprise_per_unit", 0);
    if (limit > 0 && ctx.facts.ContractsWithUnitOf(v.get<std::string>()) >= limit) {
      return Parsed::Error("invalid.contract_unit_limit", {{"limit", limit}});
    }
    return std::nullopt;
  };
  contract.fields.push_back(std::move(researcher_pick));
  contract.fields.push_back(ChoiceField(k, "contract_type", ContractTypes));
  auto contract_amount = Text(k, "amount", 1, 1);
  contract_amount.parse = [](std::string_view t, const TurnContext&) {
    auto parsed = ParseAmountWan(t, 0);
    if (parsed.Ok() && parsed.value->get<double>() <= 0) return Parsed::Error("invalid.amount");
    return parsed;
  };
  contract_amount.show = [](const json& v, const TurnContext&) { return Wan(v); };
  contract.fields.push_back(std::move(contract_amount));
  contract.fields.push_back(With(Text(k, "signed_on", 1, 1), [](std::string_view t, const TurnContext& ctx) {
    return ParseSigningDate(t, ctx.today);
  }));
  auto funding = Text(k, "funding", 1, 1, true);
  funding.parse = [](std::string_view t, const TurnContext&) { return ParseAmountWan(t, 0); };
  funding.show = [](const json& v, const TurnContext&) { return Wan(v); };
  funding.cross_check = [](const json& v, const json& values, const TurnContext& ctx) -> std::optional<Parsed> {
    const json rules = ctx.programme.raw.value("funding", json::object());
    const double asked = v.get<double>();
    const double contract_wan = values.value("amount", 0.0);
    if (asked <= 0) return std::nullopt;
    if (asked > contract_wan) {
      return Parsed::Error("invalid.funding_above_contract", {{"amount", Wan(json(contract_wan))}});
    }
    if (const double cap = rules.value("max_per_project_wan", 0.0); cap > 0 && asked > cap) {
      return Parsed::Error("invalid.funding_above_cap", {{"cap", Wan(json(cap))}});
    }
    if (const double floor = rules.value("contract_minimum_wan", 0.0); floor > 0 && contract_wan < floor) {
      return Parsed::Error("invalid.funding_contract_minimum", {{"minimum", Wan(json(floor))}});
    }
    if (const int once = rules.value("projects_per_enterprise", 0); once > 0 && ctx.facts.FundedContracts() >= once) {
      return Parsed::Error("invalid.funding_projects", {{"count", once}});
    }
    return std::nullopt;
  };
  contract.fields.push_back(std::move(funding));
  forms.push_back(std::move(contract));

  // The enterprise sends what proves the contract — the contract itself, the invoice, the bank
  // transfer proof — one file at a time, saying the amount and the date on it; what differs
  // from the recorded contract is flagged for the staff (the runner compares).
  const auto contract_field = [](const std::string& form) {
    auto f = Text(form, "contract", 1, 1);
    f.parse = [](std::string_view text, const TurnContext& ctx) {
      return ParseChoice(text, ctx.facts.OpenContracts());
    };
    f.show = [](const json& v, const TurnContext& ctx) {
      return ChoiceName(ctx.facts.OpenContracts(), v.get<std::string>());
    };
    f.options = [](const TurnContext& ctx) { return ctx.facts.OpenContracts(); };
    return f;
  };
  const auto file_field = [](const std::string& form) {
    auto f = Text(form, "file", 1, 1);
    f.file = true;
    f.parse = [](std::string_view, const TurnContext&) { return Parsed::Error("invalid.file_expected"); };
    f.show = [](const json&, const TurnContext& ctx) {
      return ctx.catalogue.Text(ctx.locale, "evidence.file_received");
    };
    return f;
  };
  FormSpec evidence{"evidence_upload", "form.title.evidence_upload", {}, "", "attach_evidence", {}};
  const std::string ev = evidence.id;
  evidence.fields.push_back(contract_field(ev));
  evidence.fields.push_back(ChoiceField(ev, "kind", EvidenceKinds));
  evidence.fields.push_back(file_field(ev));
  auto stated_amount = Text(ev, "amount", 1, 1);
  stated_amount.parse = [](std::string_view t, const TurnContext&) { return ParseAmountWan(t, 0); };
  stated_amount.show = [](const json& v, const TurnContext&) { return Wan(v); };
  evidence.fields.push_back(std::move(stated_amount));
  evidence.fields.push_back(With(Text(ev, "date", 1, 1), [](std::string_view t, const TurnContext& ctx) {
    return ParseSigningDate(t, ctx.today);
  }));
  forms.push_back(std::move(evidence));

  // After the project: the summary report (总结报告) and the enterprise's self-acceptance (自主
  // 验收), by the programme's report deadline; a late one is taken and flagged.
  FormSpec report{"report_upload", "form.title.report_upload", {}, "", "file_report", {}};
  const std::string rp = report.id;
  report.fields.push_back(contract_field(rp));
  report.fields.push_back(file_field(rp));
  report.fields.push_back(Text(rp, "acceptance", 10, 500));
  forms.push_back(std::move(report));

  // A reviewer on WeCom pressed 推荐 / 退回 / 驳回 on a review card (dialogs/review_cards): the
  // button said which need and which decision; the form asks what the review chain requires
  // besides (the recommendation or the reason; for a return, the fields to fix). The runner
  // decides through the same ReviewNeed as the admin API, and answers with the outcome.
  for (const char* id : {"need_recommend", "need_return", "need_reject"}) {
    FormSpec review{id, std::string("form.title.") + id, {}, "", "review_need", {}};
    review.fields.push_back(Text(review.id, "reason", 2, 500));
    if (review.id == "need_return") {
      auto flagged = Text(review.id, "fields", 1, 1);
      const auto need_fields = [](const TurnContext& ctx) {
        std::vector<Choice> out;
        for (const char* f :
             {"title", "problem", "targets", "constraints", "category", "field", "amount", "deadline"}) {
          out.push_back({f, ctx.catalogue.Text(ctx.locale, std::string("field.need_posting.") + f), {}});
        }
        return out;
      };
      flagged.parse = [need_fields](std::string_view text, const TurnContext& ctx) {
        return ParseChoices(text, need_fields(ctx), 1, static_cast<int>(need_fields(ctx).size()));
      };
      flagged.show = [need_fields](const json& v, const TurnContext& ctx) {
        std::string out;
        for (const auto& f : v) out += (out.empty() ? "" : "、") + ChoiceName(need_fields(ctx), f.get<std::string>());
        return out;
      };
      flagged.options = need_fields;
      review.fields.push_back(std::move(flagged));
    }
    review.preview = [](const json& values, const TurnContext& ctx) {
      return ctx.catalogue.Text(ctx.locale, "review_form.preview", values);
    };
    forms.push_back(std::move(review));
  }
  return forms;
}

}  // namespace

const Engine& Engine::Standard() {
  static const Engine kEngine(Build());
  return kEngine;
}

}  // namespace duijie::dialogs
