#include "bot/broadcast_cli.hpp"

#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "bot/http/call.hpp"
#include <unistd.h>

namespace duijie::bot {
namespace {

using nlohmann::json;

struct Client {
  Endpoint ep;
  std::string token;
  std::chrono::milliseconds timeout;

  Result<HttpResponse> Call(http::verb method, const std::string& target, const std::optional<json>& body,
                            const std::string& key = "") const {
    HttpRequest req{method, target, 11};
    req.set(http::field::authorization, "Bearer " + token);
    if (!key.empty()) req.set("Idempotency-Key", key);
    if (body) {
      req.set(http::field::content_type, "application/json");
      req.body() = body->dump();
    }
    return CallOnce(ep, std::move(req), timeout);
  }
};

// The API's answer, or nullopt after printing why not (the API's own error message).
std::optional<json> Expect(const Result<HttpResponse>& res, std::ostream& err) {
  if (!res) {
    err << "duijie broadcast: the gateway cannot be reached: " << res.error().message << "\n";
    return std::nullopt;
  }
  auto body = json::parse(res->body(), nullptr, false);
  if (res->result_int() >= 300) {
    const std::string message = body.is_object() && body.contains("error") ? body["error"].value("message", res->body())
                                                                           : std::string(res->body());
    err << "duijie broadcast: " << res->result_int() << " " << message << "\n";
    return std::nullopt;
  }
  if (body.is_discarded()) body = json(std::string(res->body()));
  return body;
}

std::int64_t Get(const json& counts, const char* key) {
  return counts.is_object() && counts.contains(key) ? counts[key].get<std::int64_t>() : 0;
}

// "[##########..........]  512/1000 people  sent 480  delivered 300  failed 2  acknowledged 40"
std::string ProgressLine(const json& b) {
  const auto& p = b["progress"];
  const std::int64_t total = p.value("people_total", std::int64_t{0});
  const std::int64_t done = p.value("people_done", std::int64_t{0});
  constexpr int kWidth = 24;
  const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : (b["status"] == "done" ? kWidth : 0);
  std::string bar = "[" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(kWidth - filled), '.') + "]";
  const auto& m = p["messages"];
  const auto& people = p["people"];
  return bar + " " + std::to_string(done) + "/" + std::to_string(total) + " people  queued " +
         std::to_string(Get(m, "pending") + Get(m, "sending") + Get(m, "unknown")) + "  sent " +
         std::to_string(Get(m, "sent") + Get(m, "sandbox")) + "  delivered " + std::to_string(Get(m, "delivered")) +
         "  failed " + std::to_string(Get(m, "failed") + Get(m, "dead")) + "  acknowledged " +
         std::to_string(Get(people, "acknowledged")) + "  (" + b["status"].get<std::string>() + ")";
}

int Follow(const Client& client, std::int64_t id, const BroadcastCommand& command, std::ostream& out,
           std::ostream& err) {
  const bool tty = &out == &std::cout && isatty(STDOUT_FILENO) != 0;
  std::string last;
  for (;;) {
    const auto b = Expect(client.Call(http::verb::get, "/api/v1/broadcasts/" + std::to_string(id), std::nullopt), err);
    if (!b) return 1;
    const std::string line = ProgressLine(*b);
    if (line != last) {
      // On a terminal the bar redraws in place; in a pipe each change is a line.
      out << (tty ? "\r" : "") << line << (tty ? "" : "\n") << std::flush;
      last = line;
    }
    const std::string status = (*b)["status"];
    if (status == "done" || status == "cancelled" || status == "draft") {
      if (tty) out << "\n";
      return 0;
    }
    std::this_thread::sleep_for(command.interval);
  }
}

void Print(const json& body, const BroadcastCommand& command, std::ostream& out) {
  if (command.json || !body.is_object() || !body.contains("id")) {
    out << (body.is_string() ? body.get<std::string>() : body.dump(2)) << "\n";
    return;
  }
  out << "broadcast " << body["id"] << " \"" << body["title"].get<std::string>()
      << "\": " << body["status"].get<std::string>();
  if (body.contains("scheduled_at") && !body["scheduled_at"].is_null())
    out << ", at " << body["scheduled_at"].get<std::string>();
  out << "\n";
  if (body.contains("progress")) out << ProgressLine(body) << "\n";
}

}  // namespace

int RunBroadcast(const Config& config, const BroadcastCommand& command, std::ostream& out, std::ostream& err) {
  const std::string url =
      command.url.empty() ? "http://" + config.http.address + ":" + std::to_string(config.http.port) : command.url;
  const auto ep = ParseEndpoint(url);
  if (!ep) {
    err << "duijie broadcast: --url " << url << ": expected http://host:port\n";
    return 2;
  }
  if (config.api.token.empty()) {
    err << "duijie broadcast: no API token; create one with `duijie token create` and set DUIJIE_API_TOKEN\n";
    return 2;
  }
  const Client client{*ep, config.api.token, command.timeout};
  const std::string base = "/api/v1/broadcasts";
  const auto need_id = [&command, &err]() {
    if (!command.id) err << "duijie broadcast " << command.action << ": give the broadcast's id\n";
    return command.id.has_value();
  };

  if (command.action == "list") {
    const auto list = Expect(client.Call(http::verb::get, base, std::nullopt), err);
    if (!list) return 1;
    for (const auto& b : (*list)["broadcasts"]) Print(b, command, out);
    return 0;
  }
  if (command.action == "create") {
    json request = {{"title", command.title}};
    if (!command.template_key.empty()) {
      request["template"] = command.template_key;
    } else {
      request["message"] = {{"text", command.text}};
      if (!command.message_title.empty()) request["message"]["title"] = command.message_title;
    }
    if (command.audience_id) {
      request["audience_id"] = *command.audience_id;
    } else {
      const auto audience = json::parse(command.audience.empty() ? "{}" : command.audience, nullptr, false);
      if (audience.is_discarded()) {
        err << "duijie broadcast create: --audience is not JSON, e.g. '{\"roles\": [\"researcher\"]}'\n";
        return 2;
      }
      request["audience"] = audience;
    }
    for (const auto& v : command.vars) {
      const auto eq = v.find('=');
      if (eq == std::string::npos || eq == 0) {
        err << "duijie broadcast create: --var " << v << ": expected name=value\n";
        return 2;
      }
      request["vars"][v.substr(0, eq)] = v.substr(eq + 1);
    }
    if (command.ack_minutes) request["ack"] = {{"within_minutes", *command.ack_minutes}};
    if (!command.channels.empty()) {
      json list = json::array();
      std::string item;
      for (const char c : command.channels + ",") {
        if (c == ',') {
          if (!item.empty()) list.push_back(item);
          item.clear();
        } else {
          item += c;
        }
      }
      request["channels"] = list;
    }
    if (!command.send.empty()) request["send_at"] = command.send;
    // Before anything is stored: who it reaches.
    const auto preview =
        Expect(client.Call(http::verb::post, "/api/v1/audiences/preview",
                           json{{"audience", request.contains("audience") ? request["audience"] : json::object()}}),
               err);
    if (!preview && !command.audience_id) return 1;
    const auto made = Expect(client.Call(http::verb::post, base, request, command.key), err);
    if (!made) return 1;
    if (preview && !command.json) out << "audience: " << (*preview)["count"] << " people\n";
    Print(*made, command, out);
    if (command.follow && (*made)["status"] != "draft")
      return Follow(client, (*made)["id"].get<std::int64_t>(), command, out, err);
    return 0;
  }
  if (!need_id()) return 2;
  const std::string one = base + "/" + std::to_string(*command.id);
  if (command.action == "status") {
    if (command.follow) return Follow(client, *command.id, command, out, err);
    const auto b = Expect(client.Call(http::verb::get, one, std::nullopt), err);
    if (!b) return 1;
    Print(*b, command, out);
    return 0;
  }
  if (command.action == "preview") {
    if (command.person) {
      const auto p = Expect(
          client.Call(http::verb::get, one + "/preview?person_id=" + std::to_string(*command.person), std::nullopt),
          err);
      if (!p) return 1;
      if (command.json) {
        out << p->dump(2) << "\n";
        return 0;
      }
      for (const auto& c : (*p)["channels"]) {
        out << "[" << c["channel"].get<std::string>() << " " << c["address"].get<std::string>() << "]\n";
        const auto& m = c["message"];
        if (m.contains("title")) out << m["title"].get<std::string>() << "\n";
        out << m["text"].get<std::string>() << "\n";
        if (c["channel"] == "sms") out << "(SMS: " << m["params"]["text"].get<std::string>() << ")\n";
        out << "\n";
      }
      return 0;
    }
    const auto b = Expect(client.Call(http::verb::get, one, std::nullopt), err);
    if (!b) return 1;
    const auto a =
        Expect(client.Call(http::verb::post, "/api/v1/audiences/preview", json{{"audience", (*b)["audience"]}}), err);
    if (!a) return 1;
    out << "audience: " << (*a)["count"] << " people now\n";
    for (const auto& s : (*a)["sample"]) {
      out << "  " << s["person_id"] << " " << s["name"].get<std::string>() << " (" << s["role"].get<std::string>()
          << ", " << s["region"].get<std::string>() << ")\n";
    }
    return 0;
  }
  if (command.action == "send" || command.action == "cancel") {
    json body = json::object();
    if (command.action == "send" && !command.send.empty()) body["send_at"] = command.send;
    const auto b = Expect(client.Call(http::verb::post, one + "/" + command.action, body), err);
    if (!b) return 1;
    Print(*b, command, out);
    if (command.action == "send" && command.follow) return Follow(client, *command.id, command, out, err);
    return 0;
  }
  if (command.action == "report") {
    const auto r =
        Expect(client.Call(http::verb::get, one + (command.csv ? "/report.csv" : "/report"), std::nullopt), err);
    if (!r) return 1;
    if (command.csv || command.json) {
      out << (r->is_string() ? r->get<std::string>() : r->dump(2)) << (r->is_string() ? "" : "\n");
      return 0;
    }
    Print(*r, command, out);
    for (const auto& [channel, c] : (*r)["channels"].items()) {
      out << "  " << channel << ": queued " << c["queued"] << ", sent " << c["sent"] << ", delivered " << c["delivered"]
          << ", failed " << c["failed"] << ", cancelled " << c["cancelled"] << ", acknowledged " << c["acknowledged"]
          << "\n";
      for (const auto& [why, n] : c["failures"].items()) out << "    failed: " << why << " × " << n << "\n";
    }
    for (const auto& [why, n] : (*r)["skipped"].items()) out << "  not sent: " << why << " × " << n << "\n";
    return 0;
  }
  err << "duijie broadcast: unknown action " << command.action << "\n";
  return 2;
}

}  // namespace duijie::bot
