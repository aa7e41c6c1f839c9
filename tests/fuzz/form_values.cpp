// What people type into forms: amounts ("二十万", "0.5百万"), dates ("明年3月底", "昨天"), credit codes,
// mobiles, emails, counts, free text, choices.
#include "dialogs/validate.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace dialogs = duijie::dialogs;
  const auto text = duijie::fuzz::Text(data, size);
  static const std::vector<dialogs::Choice> kChoices = {
      {"energy", "新能源与节能", {"新能源"}}, {"materials", "新材料", {}}, {"biomed", "生物医药", {"医药"}}};
  (void)dialogs::ParseAmountWan(text, 10);
  (void)dialogs::ParseDate(text, dialogs::Date{2026, 11, 23});
  (void)dialogs::ParseSigningDate(text, dialogs::Date{2026, 1, 1});  // back across a year
  (void)dialogs::ParseCreditCode(text);
  (void)dialogs::ParseMobile(text);
  (void)dialogs::ParseEmail(text);
  (void)dialogs::ParseCount(text, 1, 10);
  (void)dialogs::ParseText(text, 2, 500);
  (void)dialogs::ParseChoice(text, kChoices);
  (void)dialogs::ParseChoices(text, kChoices, 1, 3);
  return 0;
}
