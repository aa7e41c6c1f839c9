#pragma once
#include <functional>

#include "bot/http/router.hpp"
#include "bot/match_service.hpp"
#include "channels/sms/templates.hpp"
#include "common/clock.hpp"
#include "common/log.hpp"
#include "dialogs/broadcasts.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/readers.hpp"
#include "store/writer.hpp"

namespace duijie::bot {

struct AdminDeps {
  store::Writer& writer;
  const Clock& clock;
  const Logger& log;
  const dialogs::Programme& programme;
  const dialogs::Catalogue& catalogue;
  std::function<void()> outbox_notify;
  /// For GET /api/v1/needs/{id}/matches: the matcher, and the reader threads it runs on (a
  /// ranking over a large pool takes milliseconds, too long for an I/O thread). Absent: 503.
  store::Readers* readers = nullptr;
  const MatchService* matches = nullptr;
  /// Broadcasts: the rules previews follow, and a wake-up for the broadcast worker when one is
  /// to go out now.
  dialogs::BroadcastPolicy broadcast_policy;
  std::function<void()> broadcast_notify;
  /// Where exports (XLSX) are written before they are sent.
  std::string temp_dir = "./data/tmp";
  /// The SMS templates the gateway sends with: staff templates' SMS parts are checked against
  /// them and previews show each SMS as carriers count it (length with the signature, parts).
  const channels::sms::Templates* sms_templates = nullptr;
  std::string sms_sign_name;
};

/// The admin API under /api/v1 (docs/openapi.yaml): bearer token → staff member → the action
/// in dialogs/staff, all in one writer job (the token's use is recorded with it). Handlers only
/// translate: Errc::kNotFound → 404, kPermissionDenied → 403, kConflict → 409,
/// kInvalidArgument → 400.
void AddAdminRoutes(Router& router, const AdminDeps& deps);

}  // namespace duijie::bot
