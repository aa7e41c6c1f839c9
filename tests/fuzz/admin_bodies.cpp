// Admin API JSON bodies that are checked before anything is stored: audiences (as an admin and
// as a bureau reviewer held to a region) and message templates.
#include <nlohmann/json.hpp>

#include "dialogs/audiences.hpp"
#include "dialogs/templates.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace dialogs = duijie::dialogs;
  const auto body = nlohmann::json::parse(duijie::fuzz::Text(data, size), nullptr, false);
  if (body.is_discarded()) return 0;
  static const auto& programme = dialogs::Programme::Embedded().at("hubei-2020");
  static const dialogs::Staff admin{"hq", "admin", std::nullopt};
  static const dialogs::Staff bureau{"wuhan", "bureau_reviewer", "hb01"};
  for (const auto* staff : {&admin, &bureau}) {
    const auto audience = dialogs::ParseAudience(body, programme, *staff);
    if (audience) {
      (void)dialogs::ToJson(*audience);
      (void)dialogs::BuildAudienceSql(*audience, programme, *dialogs::ParseIsoDate("2026-11-23"));
    }
  }
  static const dialogs::SmsKinds kinds = {{"reminder", {"text"}}, {"review_result", {"title", "result"}}};
  const auto tmpl = dialogs::ParseTemplate(body, kinds);
  if (tmpl) {
    for (const char* locale : {"zh-CN", "en"}) {
      (void)dialogs::RenderTemplate(*tmpl, locale, {{"name", "<张三>"}, {"deadline", "11月30日"}});
    }
  }
  return 0;
}
