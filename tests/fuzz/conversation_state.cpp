// The conversation engine given any saved state and any message: a state is stored JSON that an
// older version, a bug or a hand edit may have left in any shape. Input: state JSON \0 text.
#include <nlohmann/json.hpp>

#include "dialogs/engine.hpp"
#include "fuzz.hpp"

namespace {

class NoFacts final : public duijie::dialogs::Facts {
 public:
  [[nodiscard]] bool CreditCodeTaken(std::string_view /*code*/) const override { return false; }
  [[nodiscard]] std::vector<std::string> NeedSummaries() const override { return {"需求（已发布）"}; }
  [[nodiscard]] bool HasEnterprise() const override { return true; }
  [[nodiscard]] std::optional<ReturnedNeed> Returned() const override {
    return ReturnedNeed{7, {{"title", "高镍正极材料"}}, {"title", "amount"}};
  }
  [[nodiscard]] std::optional<std::vector<Recommendation>> Recommendations() const override {
    return std::vector<Recommendation>{{"风机叶片防冰", {"涂层"}, "energy"}};
  }
  [[nodiscard]] bool IsStaff() const override { return true; }
  [[nodiscard]] std::vector<duijie::dialogs::Choice> StaffAudiences() const override {
    return {{"role:researcher", "全部科技人员", {}}};
  }
};

class Fixed final : public duijie::Random {
 public:
  [[nodiscard]] double Uniform() override { return 0.5; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace dialogs = duijie::dialogs;
  const auto parts = duijie::fuzz::Split(duijie::fuzz::Text(data, size), 2);
  const auto state = nlohmann::json::parse(parts[0], nullptr, false);
  static const NoFacts facts;
  static Fixed random;
  const dialogs::TurnContext ctx{.programme = dialogs::Programme::Embedded().at("hubei-2020"),
                                 .catalogue = dialogs::Catalogue::Embedded(),
                                 .facts = facts,
                                 .now = duijie::FromUnixMillis(1'795'305'600'000),
                                 .today = dialogs::Date{2026, 11, 23},
                                 .channel = "wecom",
                                 .sender = "zhangsan",
                                 .random = &random};
  const dialogs::InboundEvent event{"wecom", "zhangsan", "text", std::string(parts[1]), std::nullopt, std::nullopt, {}};
  auto turn = dialogs::Engine::Standard().Handle(state.is_discarded() ? nlohmann::json() : state, event, ctx);
  // The state the engine saves must be one it can read back.
  (void)dialogs::Engine::Standard().Handle(turn.state, event, ctx);
  return 0;
}
