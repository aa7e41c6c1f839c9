#pragma once
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "dialogs/staff.hpp"
#include "store/connection.hpp"

namespace duijie::bot {

/// A created token: the secret is shown once and only its SHA-256 is stored.
struct IssuedToken {
  std::int64_t id = 0;
  std::string secret;
};

/// Admin API tokens (DESIGN.md §4): bearer tokens of 32 random bytes, stored hashed, each with a
/// role (admin, platform_reviewer, bureau_reviewer, viewer) and, for bureau reviewers, a region.
class Tokens {
 public:
  /// With `wecom_userid` the token also stands for that member of the operator's WeCom corp: in
  /// a chat with the bot they may do what the token allows (send broadcasts). Their person is
  /// found by the userid, or made. Call inside a transaction.
  static Result<IssuedToken> Create(store::Connection& c, const std::string& name, const std::string& role,
                                    const std::optional<std::string>& region, std::int64_t now_ms,
                                    const std::optional<std::string>& wecom_userid = std::nullopt);
  static bool Revoke(store::Connection& c, const std::string& name, std::int64_t now_ms);
  /// The staff member a bearer token stands for, if it is known and not revoked.
  static std::optional<dialogs::Staff> Authenticate(store::Connection& c, std::string_view secret, std::int64_t now_ms);
  struct Listed {
    std::int64_t id;
    std::string name;
    std::string role;
    std::string region;
    bool revoked;
  };
  static std::vector<Listed> List(store::Connection& c);
};

}  // namespace duijie::bot
