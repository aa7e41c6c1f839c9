#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "store/connection.hpp"
#include "store/outbox_repository.hpp"

namespace duijie::dialogs {

/// A button of a review card: which need, and the decision it stands for (recommend, approve,
/// return, reject — the decisions of ReviewNeed).
struct ReviewButton {
  std::int64_t need_id = 0;
  std::string decision;
};

/// "review:<need id>:<decision>" and back; nullopt for any other key.
[[nodiscard]] std::string ReviewButtonKey(std::int64_t need_id, std::string_view decision);
[[nodiscard]] std::optional<ReviewButton> ParseReviewButtonKey(std::string_view key);

/// Review cards for a need now awaiting review (stage submitted: the bureau of its enterprise's
/// region; recommended: the platform), one WeCom button card to each staff member of the deciding
/// role whose live token is linked to a WeCom member (`duijie token create --wecom-userid`). When
/// nobody of that role is reachable there, the linked admins get it, so no need waits unseen.
/// Each card shows what the reviewer needs (enterprise, SME number, category, field, amount,
/// deadline, the problem) and the decisions of the stage. Empty for a need at any other stage.
/// The caller queues them in its transaction.
[[nodiscard]] std::vector<store::NewOutboxMessage> ReviewCards(store::Connection& c, const Programme& programme,
                                                               const Catalogue& catalogue, std::int64_t need_id);

/// Notices for the staff who review the needs of `region` and are linked to WeCom (its bureau
/// reviewers; the linked admins when none is): `text_key` with `params` in each one's language,
/// idempotency keys made from `key`. The caller queues them in its transaction.
[[nodiscard]] std::vector<store::NewOutboxMessage> StaffNotices(store::Connection& c, const Catalogue& catalogue,
                                                                const std::string& region, const std::string& key,
                                                                std::string_view text_key,
                                                                const nlohmann::json& params);

}  // namespace duijie::dialogs
