#include "bot/handlers/admin_handler.hpp"

#include <charconv>

#include <boost/url/parse.hpp>

#include "bot/auth.hpp"
#include "bot/exports.hpp"
#include "bot/http/responses.hpp"
#include "dialogs/audiences.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/calendar.hpp"
#include "dialogs/message.hpp"
#include "dialogs/push_plan.hpp"
#include "dialogs/reports.hpp"
#include "dialogs/staff.hpp"
#include "dialogs/templates.hpp"
#include "store/matching.hpp"

namespace duijie::bot {
namespace {

using nlohmann::json;

struct Reply {
  Reply() = default;
  Reply(http::status s, json b, bool q = false) : status(s), body(std::move(b)), queued(q) {}
  http::status status = http::status::ok;
  json body;
  bool queued = false;
  std::optional<std::string> file;  // a download (CSV, XLSX) instead of JSON
  std::string file_type;
  std::string file_name;
  bool wake_broadcasts = false;  // a broadcast may be due now
};

Reply File(std::string bytes, std::string type, std::string name) {
  Reply r(http::status::ok, json());
  r.file = std::move(bytes);
  r.file_type = std::move(type);
  r.file_name = std::move(name);
  return r;
}

Reply Csv(std::string text) { return File(std::move(text), "text/csv; charset=utf-8", "report.csv"); }

Reply Waking(http::status status, json body) {
  Reply r(status, std::move(body));
  r.wake_broadcasts = true;
  return r;
}

Reply FromError(const Error& e) {
  const auto code = static_cast<Errc>(e.code.value());
  const auto [status, name] = [code]() -> std::pair<http::status, const char*> {
    switch (code) {
      case Errc::kNotFound:
        return {http::status::not_found, "not_found"};
      case Errc::kPermissionDenied:
        return {http::status::forbidden, "forbidden"};
      case Errc::kConflict:
        return {http::status::conflict, "conflict"};
      default:
        return {http::status::bad_request, "invalid_request"};
    }
  }();
  return {status, {{"error", {{"code", name}, {"message", e.message}}}}, false};
}

std::optional<std::string> Query(std::string_view target, std::string_view key) {
  const auto url = boost::urls::parse_origin_form(target);
  if (!url) return std::nullopt;
  for (const auto& p : url->params()) {
    if (p.key == key) return std::string(p.value);
  }
  return std::nullopt;
}

std::optional<std::int64_t> IdAt(const HttpRequest& req, std::size_t index) {
  const auto segments = PathSegments(req.target());
  if (segments.size() <= index) return std::nullopt;
  std::int64_t id = 0;
  const auto s = segments[index];
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (ec != std::errc{} || ptr != s.data() + s.size() || id <= 0) return std::nullopt;
  return id;
}

using Action = std::function<Reply(store::Connection&, const dialogs::Staff&)>;

// Authenticates, runs `action` as that staff member, answers: one writer job per request.
// Callers pass a named Action: GCC 12 destroys temporaries inside a co_await expression twice.
net::awaitable<HttpResponse> Serve(const AdminDeps& deps, const HttpRequest& req, const Action& action) {
  const auto header = req[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.substr(0, kBearer.size()) != kBearer) {
    auto res = JsonError(http::status::unauthorized, "unauthorized", "send Authorization: Bearer <token>");
    res.set(http::field::www_authenticate, "Bearer");
    co_return res;
  }
  const std::string secret(header.substr(kBearer.size()));
  const auto now = deps.clock.Now();
  const auto job = [&secret, &action, now](store::Connection& c) -> std::optional<Reply> {
    const auto staff = Tokens::Authenticate(c, secret, ToUnixMillis(now));
    if (!staff) return std::nullopt;
    return action(c, *staff);
  };
  const auto reply = co_await deps.writer.Run(job);
  if (!reply) {
    auto res = JsonError(http::status::unauthorized, "unauthorized", "unknown or revoked token");
    res.set(http::field::www_authenticate, "Bearer");
    co_return res;
  }
  if (reply->queued && deps.outbox_notify) deps.outbox_notify();
  if (reply->wake_broadcasts && deps.broadcast_notify) deps.broadcast_notify();
  if (reply->file) {
    auto res = TextResponse(reply->status, *reply->file, reply->file_type);
    res.set(http::field::content_disposition, "attachment; filename=\"" + reply->file_name + "\"");
    co_return res;
  }
  co_return JsonResponse(reply->status, reply->body);
}

Reply Done(const Result<dialogs::StaffOutcome>& r) {
  if (!r) return FromError(r.error());
  return {http::status::ok, r->body, r->queued};
}

std::optional<json> Body(const HttpRequest& req) {
  auto body = json::parse(req.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) return std::nullopt;
  return body;
}

HttpResponse BadJson() {
  return JsonError(http::status::bad_request, "invalid_request", "the body must be a JSON object");
}
HttpResponse BadId() { return JsonError(http::status::not_found, "not_found", "no such resource"); }

// A preview's SMS as the carriers will count it: the text with the template filled in, its
// length with the signature and the parts it is billed as (or why it cannot be sent).
json WithSmsRendering(json preview, const AdminDeps& deps) {
  if (deps.sms_templates == nullptr || !preview.contains("channels")) return preview;
  for (auto& ch : preview["channels"]) {
    if (ch.value("channel", "") != "sms") continue;
    const auto msg = ch["message"].get<dialogs::OutboundMessage>();
    const auto rendered = deps.sms_templates->Render(msg.template_id.value_or("reply"), msg.params, deps.sms_sign_name);
    if (rendered) {
      ch["sms"] = {{"text", rendered->text}, {"length", rendered->length}, {"parts", rendered->parts}};
    } else {
      ch["sms"] = {{"error", rendered.error().message}};
    }
  }
  return preview;
}

dialogs::SmsKinds SmsKindsOf(const AdminDeps& deps) {
  return deps.sms_templates != nullptr ? deps.sms_templates->Kinds() : dialogs::SmsKinds{};
}

void AddTemplateRoutes(Router& router, const AdminDeps& deps) {
  router.Add(http::verb::get, "/api/v1/templates", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const Action action = [&deps](store::Connection& c, const dialogs::Staff&) {
      return Reply{http::status::ok, {{"templates", dialogs::ListTemplates(c, deps.catalogue)}}};
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::post, "/api/v1/templates", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto body = Body(req);
    if (!body) co_return BadJson();
    const auto now = deps.clock.Now();
    const Action action = [&deps, &body, now](store::Connection& c, const dialogs::Staff& staff) {
      auto saved = dialogs::SaveTemplate(c, staff, *body, SmsKindsOf(deps), false, now);
      return saved ? Reply{http::status::created, *saved} : FromError(saved.error());
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/templates/{name}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const std::string name(PathSegments(req.target())[3]);
               const Action action = [&deps, &name](store::Connection& c, const dialogs::Staff&) {
                 auto found = dialogs::FindTemplate(c, deps.catalogue, name);
                 if (!found) return FromError(Error(Errc::kNotFound, "template: no template named '" + name + "'"));
                 return Reply{http::status::ok, *found};
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::put, "/api/v1/templates/{name}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               auto body = Body(req);
               if (!body) co_return BadJson();
               const std::string name(PathSegments(req.target())[3]);
               if (body->contains("name") && (*body)["name"] != name) {
                 co_return JsonError(http::status::bad_request, "invalid_request",
                                     "template: the body's name is not the one in the path");
               }
               (*body)["name"] = name;
               const auto now = deps.clock.Now();
               const Action action = [&deps, &body, now](store::Connection& c, const dialogs::Staff& staff) {
                 auto saved = dialogs::SaveTemplate(c, staff, *body, SmsKindsOf(deps), true, now);
                 return saved ? Reply{http::status::ok, *saved} : FromError(saved.error());
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::delete_, "/api/v1/templates/{name}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const std::string name(PathSegments(req.target())[3]);
               const Action action = [&name](store::Connection& c, const dialogs::Staff& staff) {
                 auto done = dialogs::DeleteTemplate(c, staff, name);
                 return done ? Reply{http::status::ok, {{"deleted", name}}} : FromError(done.error());
               };
               co_return co_await Serve(deps, req, action);
             });
  // The template as one person would get it: {"person_id": 7, "vars": {...}, "ack": true}.
  router.Add(http::verb::post, "/api/v1/templates/{name}/preview",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto body = Body(req);
               if (!body) co_return BadJson();
               const std::string name(PathSegments(req.target())[3]);
               const auto person = body->value("person_id", json());
               if (!person.is_number_integer()) {
                 co_return JsonError(http::status::bad_request, "invalid_request",
                                     "preview needs \"person_id\": the id of the person to render it for");
               }
               const Action action = [&deps, &body, &name, &person](store::Connection& c, const dialogs::Staff&) {
                 auto r = dialogs::PreviewTemplate(c, deps.catalogue, deps.broadcast_policy, name,
                                                   person.get<std::int64_t>(), body->value("vars", json::object()),
                                                   body->value("ack", json()) == json(true));
                 return r ? Reply{http::status::ok, WithSmsRendering(std::move(*r), deps)} : FromError(r.error());
               };
               co_return co_await Serve(deps, req, action);
             });
}

void AddBroadcastRoutes(Router& router, const AdminDeps& deps) {
  AddTemplateRoutes(router, deps);
  // Audiences: a preview (count and a sample) before anything is sent; saved ones by name.
  router.Add(http::verb::post, "/api/v1/audiences/preview",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto body = Body(req);
               if (!body) co_return BadJson();
               const auto now = deps.clock.Now();
               const Action action = [&deps, &body, now](store::Connection& c, const dialogs::Staff& staff) {
                 auto audience = dialogs::ParseAudience(body->value("audience", *body), deps.programme, staff);
                 if (!audience) return FromError(audience.error());
                 const auto today = dialogs::WorkCalendar::Embedded().LocalDate(now);
                 return Reply{http::status::ok, dialogs::PreviewAudience(c, *audience, deps.programme, today, 10)};
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::post, "/api/v1/audiences", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto body = Body(req);
    if (!body) co_return BadJson();
    const auto now = deps.clock.Now();
    const Action action = [&deps, &body, now](store::Connection& c, const dialogs::Staff& staff) {
      if (staff.role == "viewer")
        return FromError(Error(Errc::kPermissionDenied, "viewer tokens cannot save audiences"));
      auto audience = dialogs::ParseAudience(body->value("audience", json::object()), deps.programme, staff);
      if (!audience) return FromError(audience.error());
      auto saved = dialogs::SaveAudience(c, staff, body->value("name", ""), *audience, now);
      return saved ? Reply{http::status::created, *saved} : FromError(saved.error());
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/audiences", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const Action action = [](store::Connection& c, const dialogs::Staff&) {
      return Reply{http::status::ok, {{"audiences", dialogs::ListAudiences(c)}}};
    };
    co_return co_await Serve(deps, req, action);
  });
  // A repeated request with the same Idempotency-Key answers the broadcast made the first time
  // (200 instead of 201); the writer runs one job at a time, so two at once make one.
  router.Add(http::verb::post, "/api/v1/broadcasts", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto body = Body(req);
    if (!body) co_return BadJson();
    std::optional<std::string> key;
    if (const auto header = req["Idempotency-Key"]; !header.empty()) key = std::string(header);
    const auto now = deps.clock.Now();
    const Action action = [&deps, &body, &key, now](store::Connection& c, const dialogs::Staff& staff) {
      auto made = dialogs::CreateBroadcast(c, deps.programme, deps.catalogue, staff, *body, key, now);
      if (!made) return FromError(made.error());
      return Waking(made->created ? http::status::created : http::status::ok, made->body);
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/broadcasts", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const Action action = [](store::Connection& c, const dialogs::Staff&) {
      return Reply{http::status::ok, {{"broadcasts", dialogs::ListBroadcasts(c, 100)}}};
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/broadcasts/{id}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = IdAt(req, 3);
               if (!id) co_return BadId();
               const Action action = [id](store::Connection& c, const dialogs::Staff&) {
                 auto b = dialogs::GetBroadcast(c, *id);
                 return b ? Reply{http::status::ok, *b} : FromError(b.error());
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::post, "/api/v1/broadcasts/{id}/{action}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = IdAt(req, 3);
               if (!id) co_return BadId();
               const std::string verb(PathSegments(req.target())[4]);
               if (verb != "send" && verb != "cancel") co_return BadId();
               const auto body = req.body().empty() ? std::optional<json>(json::object()) : Body(req);
               if (!body) co_return BadJson();
               const auto now = deps.clock.Now();
               const Action action = [id, &verb, &body, now](store::Connection& c, const dialogs::Staff& staff) {
                 auto r = verb == "send" ? dialogs::SendBroadcast(c, staff, *id, *body, now)
                                         : dialogs::CancelBroadcast(c, staff, *id, now);
                 return r ? Waking(http::status::ok, *r) : FromError(r.error());
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::get, "/api/v1/broadcasts/{id}/{view}",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = IdAt(req, 3);
               if (!id) co_return BadId();
               const std::string view(PathSegments(req.target())[4]);
               std::optional<std::int64_t> person;
               if (view == "preview") {
                 const auto text = Query(req.target(), "person_id").value_or("");
                 std::int64_t p = 0;
                 const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
                 if (ec != std::errc{} || ptr != text.data() + text.size() || p <= 0) {
                   co_return JsonError(http::status::bad_request, "invalid_request",
                                       "preview needs ?person_id=<id> of the person to render it for");
                 }
                 person = p;
               } else if (view != "report" && view != "report.csv") {
                 co_return BadId();
               }
               const Action action = [&deps, id, &view, person](store::Connection& c, const dialogs::Staff&) {
                 if (view == "report.csv") {
                   auto csv = dialogs::BroadcastReportCsv(c, *id);
                   if (!csv) return FromError(csv.error());
                   return Csv(std::move(*csv));
                 }
                 auto r = view == "report"
                              ? dialogs::BroadcastReport(c, *id)
                              : dialogs::PreviewBroadcast(c, deps.catalogue, deps.broadcast_policy, *id, *person);
                 if (r && view == "preview") return Reply{http::status::ok, WithSmsRendering(std::move(*r), deps)};
                 return r ? Reply{http::status::ok, *r} : FromError(r.error());
               };
               co_return co_await Serve(deps, req, action);
             });
}

void AddReportRoutes(Router& router, const AdminDeps& deps) {
  router.Add(http::verb::get, "/api/v1/stats/funnel", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const Action action = [&deps](store::Connection& c, const dialogs::Staff& staff) {
      return Reply{http::status::ok, dialogs::Funnel(c, deps.programme, staff)};
    };
    co_return co_await Serve(deps, req, action);
  });
  // The need list (需求清单) by industry, as staff hand it on: CSV or XLSX.
  for (const char* format : {"csv", "xlsx"}) {
    const std::string kind = format;
    router.Add(http::verb::get, "/api/v1/exports/needs." + kind,
               [deps, kind](const HttpRequest& req) -> net::awaitable<HttpResponse> {
                 std::vector<std::string> stages;
                 if (const auto stage = Query(req.target(), "stage")) stages.push_back(*stage);
                 const Action action = [&deps, &kind, &stages](store::Connection& c, const dialogs::Staff& staff) {
                   const auto rows = dialogs::NeedList(c, deps.programme, staff, stages);
                   if (kind == "csv") return File(NeedListCsv(rows), "text/csv; charset=utf-8", "needs.csv");
                   auto xlsx = NeedListXlsx(rows, deps.temp_dir);
                   if (!xlsx) return FromError(xlsx.error());
                   return File(std::move(*xlsx), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                               "needs.xlsx");
                 };
                 co_return co_await Serve(deps, req, action);
               });
  }
}

}  // namespace

void AddAdminRoutes(Router& router, const AdminDeps& deps) {
  AddBroadcastRoutes(router, deps);
  AddReportRoutes(router, deps);
  router.Add(http::verb::get, "/api/v1/needs", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto stage = Query(req.target(), "stage");
    const Action action = [stage](store::Connection& c, const dialogs::Staff& staff) {
      return Reply{http::status::ok, {{"needs", dialogs::ListNeeds(c, staff, stage)}}, false};
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/needs/{id}", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto id = IdAt(req, 3);
    if (!id) co_return BadId();
    const Action action = [id](store::Connection& c, const dialogs::Staff& staff) {
      auto need = dialogs::GetNeed(c, staff, *id);
      return need ? Reply{http::status::ok, *need, false} : FromError(need.error());
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(
      http::verb::get, "/api/v1/needs/{id}/matches", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
        const auto id = IdAt(req, 3);
        if (!id) co_return BadId();
        int limit = 20;
        if (const auto text = Query(req.target(), "limit")) {
          const auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), limit);
          if (ec != std::errc{} || ptr != text->data() + text->size() || limit < 1 || limit > 100) {
            co_return JsonError(http::status::bad_request, "invalid_request", "limit must be a number from 1 to 100");
          }
        }
        if (deps.matches == nullptr || deps.readers == nullptr) {
          co_return JsonError(http::status::service_unavailable, "unavailable", "matching is not running");
        }
        if (!deps.matches->Ready()) {
          co_return JsonError(http::status::service_unavailable, "unavailable", "the matcher is still being built");
        }
        // The token and the staff member's right to see this need first (one writer job, like
        // every admin call), then the ranking on a reader thread.
        auto need = std::make_shared<std::optional<matcher::Need>>();
        const Action action = [id, need](store::Connection& c, const dialogs::Staff& staff) {
          const auto visible = dialogs::GetNeed(c, staff, *id);
          if (!visible) return FromError(visible.error());
          *need = store::LoadNeed(c, *id);
          return Reply{http::status::ok, json::object(), false};
        };
        auto checked = co_await Serve(deps, req, action);
        if (checked.result() != http::status::ok || !need->has_value()) co_return checked;
        const MatchService* matches = deps.matches;
        const auto rank = [matches, need, limit, &programme = deps.programme](store::Connection& c) {
          // More than asked for, so that leaving out the ineligible and those at capacity still
          // fills the list.
          auto candidates = matches->ResearchersFor(**need, 3 * static_cast<std::size_t>(limit) + 10);
          std::vector<std::int64_t> ids;
          ids.reserve(candidates.size());
          for (const auto& m : candidates) ids.push_back(m.id);
          const auto standings = store::LoadStandings(c, (*need)->field, ids);
          json list = json::array();
          for (const auto& m :
               dialogs::Shortlist(std::move(candidates), standings, programme, static_cast<std::size_t>(limit))) {
            const auto label = store::LabelResearcher(c, m.id);
            list.push_back({{"researcher_id", m.id},
                            {"name", label.name},
                            {"unit", label.unit},
                            {"title", label.title},
                            {"score", m.score},
                            {"terms", m.terms},
                            {"shared_field", m.shared_field}});
          }
          return json{{"need_id", (*need)->id}, {"matches", std::move(list)}};
        };
        const json body = co_await deps.readers->Run(rank);
        co_return JsonResponse(http::status::ok, body);
      });
  router.Add(http::verb::post, "/api/v1/needs/{id}/reviews",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = IdAt(req, 3);
               if (!id) co_return BadId();
               const auto body = Body(req);
               if (!body) co_return BadJson();
               const auto now = deps.clock.Now();
               const Action action = [&deps, id, &body, now](store::Connection& c, const dialogs::Staff& staff) {
                 return Done(dialogs::ReviewNeed(c, deps.programme, deps.catalogue, staff, *id, *body, now));
               };
               co_return co_await Serve(deps, req, action);
             });
  router.Add(http::verb::get, "/api/v1/enterprises", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto status = Query(req.target(), "status");
    const Action action = [status](store::Connection& c, const dialogs::Staff& staff) {
      return Reply{http::status::ok, {{"enterprises", dialogs::ListEnterprises(c, staff, status)}}, false};
    };
    co_return co_await Serve(deps, req, action);
  });
  router.Add(http::verb::get, "/api/v1/contracts", [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
    const auto status = Query(req.target(), "status");
    const Action action = [status](store::Connection& c, const dialogs::Staff& staff) {
      return Reply{http::status::ok, {{"contracts", dialogs::ListContracts(c, staff, status)}}, false};
    };
    co_return co_await Serve(deps, req, action);
  });
  // Verifying an enterprise, a researcher or a contract: the same request, a different decision function.
  using Verify = Result<dialogs::StaffOutcome> (*)(store::Connection&, const dialogs::Catalogue&, const dialogs::Staff&,
                                                   std::int64_t, const json&, Clock::TimePoint);
  for (const auto& route :
       {std::pair<const char*, Verify>{"/api/v1/enterprises/{id}/verification", &dialogs::VerifyEnterprise},
        std::pair<const char*, Verify>{"/api/v1/researchers/{id}/verification", &dialogs::VerifyResearcher},
        std::pair<const char*, Verify>{"/api/v1/contracts/{id}/verification", &dialogs::VerifyContract}}) {
    const Verify verify = route.second;  // a plain variable: structured bindings cannot be captured
    router.Add(http::verb::post, route.first, [deps, verify](const HttpRequest& req) -> net::awaitable<HttpResponse> {
      const auto id = IdAt(req, 3);
      if (!id) co_return BadId();
      const auto body = Body(req);
      if (!body) co_return BadJson();
      const auto now = deps.clock.Now();
      const Action action = [&deps, verify, id, &body, now](store::Connection& c, const dialogs::Staff& staff) {
        return Done(verify(c, deps.catalogue, staff, *id, *body, now));
      };
      co_return co_await Serve(deps, req, action);
    });
  }
  router.Add(http::verb::get, "/api/v1/people/{id}/conversation",
             [deps](const HttpRequest& req) -> net::awaitable<HttpResponse> {
               const auto id = IdAt(req, 3);
               if (!id) co_return BadId();
               const Action action = [id](store::Connection& c, const dialogs::Staff& staff) {
                 // What a person said is theirs: only administrators read it.
                 if (staff.role != "admin") {
                   return FromError(Error(Errc::kPermissionDenied, "only admin tokens read conversations"));
                 }
                 auto conv = dialogs::GetConversation(c, *id);
                 return conv ? Reply{http::status::ok, *conv, false} : FromError(conv.error());
               };
               co_return co_await Serve(deps, req, action);
             });
}

}  // namespace duijie::bot
