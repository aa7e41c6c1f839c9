#include "bot/cli.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>

#include <CLI/CLI.hpp>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Transaction.h>

#include "bot/app.hpp"
#include "bot/auth.hpp"
#include "bot/broadcast_cli.hpp"
#include "bot/chat.hpp"
#include "bot/match.hpp"
#include "common/mask.hpp"
#include "dialogs/import.hpp"
#include "dialogs/programme.hpp"
#include "store/migrations.hpp"
#include "store/outbox_repository.hpp"
#include "store/person_data.hpp"
#include <unistd.h>

namespace duijie::bot {
namespace {

constexpr const char* kUsage =
    "usage: duijie <serve|migrate|outbox|chat|match|token|person|import|broadcast> [options]; see duijie --help";

// Loads the config and prints one line per problem; nullopt when there are problems.
std::optional<Config> LoadOrReport(const std::optional<std::string>& file, const Environment& env) {
  auto loaded = LoadConfig(file, env);
  if (loaded.problems.empty()) return loaded.config;
  for (const auto& p : loaded.problems) std::cerr << p << "\n";
  std::cerr << "duijie: the configuration has " << loaded.problems.size() << " problem"
            << (loaded.problems.size() == 1 ? "" : "s") << "; nothing was started\n";
  return std::nullopt;
}

nlohmann::json MessageJson(const store::OutboxMessage& m) {
  nlohmann::json j{{"id", m.id},
                   {"status", m.status},
                   {"channel", m.channel},
                   {"recipient", MaskAddress(m.recipient)},
                   {"kind", m.kind},
                   {"attempts", m.attempts},
                   {"max_attempts", m.max_attempts},
                   {"next_attempt_at", FormatUtc(FromUnixMillis(m.next_attempt_at))},
                   {"updated_at", FormatUtc(FromUnixMillis(m.updated_at))},
                   {"idempotency_key", m.idempotency_key}};
  if (m.provider_ref) j["provider_ref"] = *m.provider_ref;
  if (m.last_error) j["last_error"] = *m.last_error;
  return j;
}

int ListOutbox(const Config& config, int limit, const std::optional<std::string>& status,
               std::optional<std::int64_t> id, bool as_json) {
  if (!store::IsMemoryPath(config.store.path) && !std::filesystem::exists(config.store.path)) {
    std::cerr << "duijie outbox: database " << config.store.path
              << " does not exist; start duijie serve or run duijie migrate first\n";
    return 1;
  }
  try {
    store::ConnectionOptions options;
    options.read_only = true;
    options.busy_timeout = config.store.busy_timeout;
    store::Connection conn(config.store.path, options);
    if (store::SchemaVersion(conn) != store::LatestSchemaVersion()) {
      std::cerr << "duijie outbox: database schema version " << store::SchemaVersion(conn) << ", expected "
                << store::LatestSchemaVersion() << "; run duijie migrate\n";
      return 1;
    }
    if (id) {
      const auto m = store::OutboxRepository::Find(conn, *id);
      if (!m) {
        std::cerr << "duijie outbox: no message with id " << *id << "\n";
        return 1;
      }
      auto j = MessageJson(*m);
      j["attempt_log"] = nlohmann::json::array();
      for (const auto& a : store::OutboxRepository::Attempts(conn, *id)) {
        nlohmann::json aj{{"attempt", a.attempt},
                          {"outcome", a.outcome},
                          {"sender", a.sender},
                          {"started_at", FormatUtc(FromUnixMillis(a.started_at))}};
        if (a.finished_at) aj["finished_at"] = FormatUtc(FromUnixMillis(*a.finished_at));
        if (a.error) aj["error"] = *a.error;
        if (a.provider_ref) aj["provider_ref"] = *a.provider_ref;
        j["attempt_log"].push_back(aj);
      }
      std::cout << j.dump(as_json ? -1 : 2) << "\n";
      return 0;
    }
    const auto messages = store::OutboxRepository::Recent(conn, limit, status);
    if (as_json) {
      for (const auto& m : messages) std::cout << MessageJson(m).dump() << "\n";
      return 0;
    }
    const auto counts = store::OutboxRepository::CountByStatus(conn);
    std::cout << "outbox:";
    if (counts.empty()) std::cout << " empty";
    for (const auto& [s, n] : counts) std::cout << " " << s << "=" << n;
    std::cout << "\n";
    if (messages.empty()) return 0;
    std::cout << std::left << std::setw(8) << "ID" << std::setw(10) << "STATUS" << std::setw(8) << "CHANNEL"
              << std::setw(24) << "RECIPIENT" << std::setw(16) << "KIND" << std::setw(9) << "ATTEMPTS" << std::setw(26)
              << "UPDATED"
              << "LAST ERROR\n";
    for (const auto& m : messages) {
      std::cout << std::left << std::setw(8) << m.id << std::setw(10) << m.status << std::setw(8) << m.channel
                << std::setw(24) << MaskAddress(m.recipient) << std::setw(16) << m.kind << std::setw(9)
                << (std::to_string(m.attempts) + "/" + std::to_string(m.max_attempts)) << std::setw(26)
                << FormatUtc(FromUnixMillis(m.updated_at)) << m.last_error.value_or("") << "\n";
    }
    return 0;
  } catch (const SQLite::Exception& e) {
    std::cerr << "duijie outbox: " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
}

// duijie token create|revoke|list: runs against the database directly (migrated first), so a
// first admin token can be made before the gateway ever runs.
// `duijie import researchers|enterprises FILE`: the whole file checked first; with problems nothing is
// written unless --partial; the report names row and column of each. The writing is one
// transaction, so a crash or an error leaves nothing half-imported.
int RunImport(const Config& config, const std::string& kind, const std::string& file, bool partial, bool dry_run) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "duijie import: cannot read " << file << "\n";
    return 1;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    store::Connection conn(config.store.path, {});
    if (const auto migrated = store::Migrate(conn); !migrated) {
      std::cerr << "duijie import: " << migrated.error().message << "\n";
      return 1;
    }
    dialogs::ImportOptions options;
    options.partial = partial;
    options.dry_run = dry_run;
    const bool tty = isatty(STDERR_FILENO) != 0;
    options.progress = [tty](std::string_view phase, std::size_t done, std::size_t total) {
      constexpr std::size_t kWidth = 30;
      const std::size_t filled = total == 0 ? kWidth : kWidth * done / total;
      std::cerr << (tty ? "\r" : "") << phase << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.')
                << "] " << done << "/" << total << (tty && done < total ? "" : "\n") << std::flush;
    };
    SQLite::Transaction tx(conn.Db());
    const auto& programme = dialogs::Programme::Embedded().at(config.programme.id);
    const auto report = kind == "enterprises"
                            ? dialogs::ImportEnterprises(conn, programme, dialogs::Catalogue::Embedded(), text, options,
                                                         SystemClock().Now())
                            : dialogs::ImportResearchers(conn, programme, dialogs::Catalogue::Embedded(), text, options,
                                                         SystemClock().Now());
    if (!report.file_error.empty()) {
      std::cerr << "duijie import: " << file << ": " << report.file_error << "\n";
      return 1;
    }
    for (const auto& p : report.problems) {
      std::cout << "row " << p.row << ", " << p.field << ": " << p.message << "\n";
    }
    if (!report.problems.empty() && !partial) {
      std::cout << report.problems.size() << " problem" << (report.problems.size() == 1 ? "" : "s") << " in "
                << report.rows << " rows; nothing was imported (fix them, or pass --partial to import the good rows)\n";
      return 1;
    }
    if (dry_run) {
      std::cout << report.rows << " rows checked, " << report.problems.size()
                << " problems; nothing was imported (--dry-run)\n";
      return report.problems.empty() ? 0 : 1;
    }
    tx.commit();
    const std::string noun = kind == "enterprises" ? "enterprise" : "researcher";
    std::cout << report.imported << " " << noun << (report.imported == 1 ? "" : "s") << " imported from " << report.rows
              << (report.rows == 1 ? " row" : " rows");
    if (const auto left = report.rows - report.imported; left > 0) {
      std::cout << "; " << left << (left == 1 ? " row" : " rows") << " left out";
    }
    std::cout << "\n";
    return 0;
  } catch (const SQLite::Exception& e) {
    std::cerr << "duijie import: " << e.what() << "\n";
    return 1;
  }
}

int RunToken(const Config& config, Logger& log, const std::string& action, const std::string& name,
             const std::string& role, const std::optional<std::string>& region,
             const std::optional<std::string>& wecom_userid) {
  (void)log;
  try {
    store::Connection conn(config.store.path, {});
    if (const auto migrated = store::Migrate(conn); !migrated) {
      std::cerr << "duijie token: " << migrated.error().message << "\n";
      return 1;
    }
    const auto now = ToUnixMillis(SystemClock().Now());
    if (action == "create") {
      if (region && !dialogs::Programme::Embedded().at(config.programme.id).regions.empty()) {
        const auto& regions = dialogs::Programme::Embedded().at(config.programme.id).regions;
        const bool known = std::any_of(regions.begin(), regions.end(), [&](const auto& r) { return r.id == *region; });
        if (!known) {
          std::cerr << "duijie token: --region " << *region << " is not a region of programme " << config.programme.id
                    << "\n";
          return 2;
        }
      }
      SQLite::Transaction tx(conn.Db());
      auto issued = Tokens::Create(conn, name, role, region, now, wecom_userid);
      if (!issued) {
        std::cerr << "duijie token: " << issued.error().message << "\n";
        return 1;
      }
      tx.commit();
      std::cout << issued->secret << "\n";
      std::cerr << "token " << name << " (" << role << ") created; the secret above is shown only now\n";
      return 0;
    }
    if (action == "revoke") {
      if (!Tokens::Revoke(conn, name, now)) {
        std::cerr << "duijie token: no live token named " << name << "\n";
        return 1;
      }
      std::cout << "revoked " << name << "\n";
      return 0;
    }
    for (const auto& t : Tokens::List(conn)) {
      std::cout << t.id << "  " << t.name << "  " << t.role << (t.region.empty() ? "" : "  " + t.region)
                << (t.revoked ? "  revoked" : "") << "\n";
    }
    return 0;
  } catch (const SQLite::Exception& e) {
    std::cerr << "duijie token: " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
}

// `duijie person export|erase ID|ADDRESS`: a person's data on request, against the database
// directly (no gateway needed). Export prints one JSON document (or writes --out); erase needs
// --yes and runs in one transaction.
int RunPerson(const Config& config, const std::string& action, const std::string& who, const std::string& out_file,
              bool yes) {
  try {
    store::Connection conn(config.store.path, {});
    if (const auto migrated = store::Migrate(conn); !migrated) {
      std::cerr << "duijie person: " << migrated.error().message << "\n";
      return 1;
    }
    std::optional<std::int64_t> id;
    if (!who.empty() && std::all_of(who.begin(), who.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }) &&
        who.size() < 11) {
      id = std::stoll(who);
    } else {
      id = store::PersonByAddress(conn, who);
    }
    if (!id) {
      std::cerr << "duijie person: nobody has the address " << MaskAddress(who) << "\n";
      return 1;
    }
    if (action == "export") {
      const auto data = store::ExportPerson(conn, *id);
      if (!data) {
        std::cerr << "duijie person: no person " << *id << "\n";
        return 1;
      }
      if (out_file.empty()) {
        std::cout << data->dump(2) << "\n";
        return 0;
      }
      std::ofstream out(out_file, std::ios::binary | std::ios::trunc);
      out << data->dump(2) << "\n";
      if (!out) {
        std::cerr << "duijie person: cannot write " << out_file << "\n";
        return 1;
      }
      std::cerr << "person " << *id << " exported to " << out_file << "\n";
      return 0;
    }
    if (!yes) {
      std::cerr << "duijie person erase: this cannot be undone; export first, then repeat with --yes\n";
      return 2;
    }
    SQLite::Transaction tx(conn.Db());
    const auto erased = store::ErasePerson(conn, *id, "cli", ToUnixMillis(SystemClock().Now()));
    if (!erased.found) {
      std::cerr << "duijie person: no person " << *id << "\n";
      return 1;
    }
    tx.commit();
    std::cout << "person " << *id << " erased:";
    for (const auto& [table, n] : erased.rows) {
      if (n > 0) std::cout << " " << table << "=" << n;
    }
    std::cout << "\n";
    return 0;
  } catch (const SQLite::Exception& e) {
    std::cerr << "duijie person: " << config.store.path << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace

int RunCli(int argc, const char* const* argv, const Environment& env) {
  CLI::App app{"duijie: the chat-bot and notification gateway of the 科技人员服务企业专项行动", "duijie"};
  app.set_version_flag("--version", "duijie " DUIJIE_VERSION);
  app.require_subcommand(1);

  std::optional<std::string> config_file;
  auto add_config = [&config_file](CLI::App* cmd) {
    cmd->add_option("-c,--config", config_file, "JSON config file (comments allowed); default: embedded defaults")
        ->check(CLI::ExistingFile);
    cmd->set_version_flag("--version", "duijie " DUIJIE_VERSION);
  };

  auto* serve = app.add_subcommand("serve", "Run the gateway until SIGTERM/SIGINT");
  add_config(serve);
  auto* migrate = app.add_subcommand("migrate", "Apply database migrations and exit");
  add_config(migrate);
  auto* chat = app.add_subcommand("chat", "Talk to the running gateway as a WeCom, SMS or email user would");
  add_config(chat);
  ChatOptions chat_options;
  chat->add_option("--channel", chat_options.channel, "Channel to talk on")
      ->check(CLI::IsMember({"wecom", "sms", "email"}))
      ->capture_default_str();
  chat->add_option("--user", chat_options.user, "WeCom UserID to talk as (--channel wecom)");
  chat->add_option("--from", chat_options.from,
                   "E.164 mobile (--channel sms) or email address (--channel email) to write from");
  chat->add_option("--provider", chat_options.provider, "SMS provider whose reply callback to play")
      ->check(CLI::IsMember({"tencent", "aliyun", "twilio"}))
      ->capture_default_str();
  chat->add_option("--url", chat_options.url, "Gateway URL; default http://<http.listen>");

  auto* outbox = app.add_subcommand("outbox", "List recent outbound messages and their states");
  add_config(outbox);
  int limit = 20;
  std::optional<std::string> status;
  std::optional<std::int64_t> id;
  bool as_json = false;
  outbox->add_option("-n,--limit", limit, "How many messages, newest first")->check(CLI::Range(1, 100000));
  outbox->add_option("-s,--status", status, "Only messages in this state")
      ->check(CLI::IsMember(
          {"pending", "sending", "unknown", "sent", "sandbox", "delivered", "failed", "dead", "cancelled"}));
  outbox->add_option("--id", id, "Show one message with every attempt")->check(CLI::PositiveNumber);
  outbox->add_flag("--json", as_json, "One JSON object per line");

  auto* match = app.add_subcommand("match", "Print the ranked matches of a need or a researcher, with why");
  add_config(match);
  MatchCommand match_command;
  match->add_option("side", match_command.side, "need or researcher")
      ->required()
      ->check(CLI::IsMember({"need", "researcher"}));
  match->add_option("id", match_command.id, "need id, or the researcher's person id")
      ->required()
      ->check(CLI::PositiveNumber);
  match->add_option("-n,--limit", match_command.limit, "How many matches")->check(CLI::Range(1, 1000));
  match->add_flag("--plan", match_command.plan, "Mark whom the push plan would choose (needs)");
  match->add_flag("--json", match_command.json, "One JSON object per line");

  auto* token = app.add_subcommand("token", "Create, list and revoke admin API tokens");
  add_config(token);
  token->require_subcommand(1);
  auto* token_create = token->add_subcommand("create", "Create a token; its secret is printed once");
  std::string token_name;
  std::string token_role;
  std::optional<std::string> token_region;
  token_create->add_option("--name", token_name, "Who or what uses it, e.g. wuhan-bureau")->required();
  token_create->add_option("--role", token_role, "What it may do")
      ->required()
      ->check(CLI::IsMember({"admin", "platform_reviewer", "bureau_reviewer", "viewer"}));
  token_create->add_option("--region", token_region, "A bureau reviewer's region id, e.g. hb01");
  std::optional<std::string> token_wecom;
  token_create->add_option("--wecom-userid", token_wecom,
                           "Also let this member of the operator's WeCom corp use the token's role in a chat with "
                           "the bot (发通知 sends a broadcast)");
  auto* token_revoke = token->add_subcommand("revoke", "Revoke the live token with this name");
  token_revoke->add_option("--name", token_name, "The token's name")->required();
  token->add_subcommand("list", "List tokens (never their secrets)");

  auto* person = app.add_subcommand("person", "Export or erase one person's data on request (个人信息保护法)");
  add_config(person);
  std::string person_action;
  std::string person_who;
  std::string person_out;
  bool person_yes = false;
  person->add_option("action", person_action, "export (all the store holds about them, as JSON) or erase")
      ->required()
      ->check(CLI::IsMember({"export", "erase"}));
  person->add_option("who", person_who, "The person's id, or one of their addresses (mobile, email, WeCom userid)")
      ->required();
  person->add_option("--out", person_out, "export: write the JSON to this file instead of stdout");
  person->add_flag("--yes", person_yes, "erase: yes, erase (it cannot be undone)");

  auto* import = app.add_subcommand(
      "import", "Import researchers or enterprises from a CSV file (checked whole before anything is written)");
  add_config(import);
  std::string import_kind;
  std::string import_file;
  bool import_partial = false;
  bool import_dry_run = false;
  import->add_option("kind", import_kind, "What the file holds")
      ->required()
      ->check(CLI::IsMember({"researchers", "enterprises"}));
  import
      ->add_option("file", import_file,
                   "CSV with a header row; researchers: 姓名,手机,邮箱,单位,职称,人员类型,领域,关键词,简介,地区; "
                   "enterprises: 企业名称,统一社会信用代码,地区,行业,入库编号,联系人,手机,邮箱")
      ->required()
      ->check(CLI::ExistingFile);
  import->add_flag("--partial", import_partial, "Import the good rows even if some rows have problems");
  import->add_flag("--dry-run", import_dry_run, "Check the file and report; write nothing");

  auto* broadcast = app.add_subcommand(
      "broadcast", "Create, preview, send, follow and report broadcasts on a running gateway (DUIJIE_API_TOKEN)");
  add_config(broadcast);
  BroadcastCommand bc;
  broadcast->add_option("action", bc.action, "create, preview, send, status, cancel, report or list")
      ->required()
      ->check(CLI::IsMember({"create", "preview", "send", "status", "cancel", "report", "list"}));
  broadcast->add_option("id", bc.id, "The broadcast (all but create and list)")->check(CLI::PositiveNumber);
  broadcast->add_option("--url", bc.url, "Gateway URL; default http://<http.listen>");
  broadcast->add_option("--title", bc.title, "create: what staff call it, e.g. 合同签订提醒");
  broadcast->add_option("--text", bc.text, "create: the message; {name} and --var names are filled per person");
  broadcast->add_option("--message-title", bc.message_title, "create: mail subject / card title");
  broadcast->add_option("--template", bc.template_key,
                        "create: a saved template (GET /api/v1/templates) or a catalogue one, instead of --text");
  broadcast->add_option("--audience", bc.audience, "create: the audience filter as JSON");
  broadcast->add_option("--audience-id", bc.audience_id, "create: a saved audience")->check(CLI::PositiveNumber);
  broadcast->add_option("--var", bc.vars, "create: name=value for the text (repeatable)");
  broadcast->add_option("--ack", bc.ack_minutes, "create: ask for an acknowledgement within this many minutes")
      ->check(CLI::Range(5, 20160));
  broadcast->add_option("--channels", bc.channels, "create: channel order, e.g. wecom,sms,email");
  broadcast->add_option("--send", bc.send,
                        "create/send: now or a time (2026-12-01T09:00:00+08:00); create without it: a draft");
  broadcast->add_option("--key", bc.key, "create: idempotency key (repeating the command sends nothing twice)");
  broadcast->add_option("--person", bc.person, "preview: render the message for this person")
      ->check(CLI::PositiveNumber);
  broadcast->add_flag("--csv", bc.csv, "report: one CSV row per person");
  broadcast->add_flag("--follow", bc.follow, "create/send/status: show progress until the broadcast is done");
  broadcast->add_flag("--json", bc.json, "print the API's JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "duijie: " << e.what() << "\n" << kUsage << "\n";
    return 2;
  }

  const auto config = LoadOrReport(config_file, env);
  if (!config) return 1;
  SystemClock clock;
  Logger log(clock, config->log.level);

  if (serve->parsed()) {
    App server(*config, log);
    return server.Run();
  }
  if (migrate->parsed()) return RunMigrate(*config, log);
  if (outbox->parsed()) return ListOutbox(*config, limit, status, id, as_json);
  if (match->parsed()) return RunMatch(*config, match_command, std::cout, std::cerr);
  if (chat->parsed()) return RunChat(*config, chat_options, std::cin, std::cout, std::cerr);
  if (person->parsed()) return RunPerson(*config, person_action, person_who, person_out, person_yes);
  if (import->parsed()) return RunImport(*config, import_kind, import_file, import_partial, import_dry_run);
  if (broadcast->parsed()) {
    if (bc.action == "create" && (bc.title.empty() || (bc.text.empty() && bc.template_key.empty()))) {
      std::cerr << "duijie broadcast create: give --title and --text (or --template)\n";
      return 2;
    }
    return RunBroadcast(*config, bc, std::cout, std::cerr);
  }
  if (token->parsed()) {
    return RunToken(*config, log,
                    token_create->parsed()   ? "create"
                    : token_revoke->parsed() ? "revoke"
                                             : "list",
                    token_name, token_role, token_region, token_wecom);
  }
  std::cerr << kUsage << "\n";
  return 2;
}

}  // namespace duijie::bot
