#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "dialogs/catalogue.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/validate.hpp"
#include "store/connection.hpp"

namespace duijie::dialogs {

/// "我的" on every channel (issue 7): 我的 gives the whole picture of the person — their needs
/// with the stage and the next step (an enterprise), their pushes and answers (a researcher), the
/// talks they are in, and the programme's deadlines ahead; 我的推送, 我的洽谈 and 我的待办 (or
/// 截止日期) give one part. On SMS the lists are cut to the three most recent items and say how
/// many more there are. nullopt: not one of these words.
[[nodiscard]] std::optional<std::string> AnswerMine(store::Connection& c, const Programme& programme,
                                                    const Catalogue& catalogue, std::int64_t person,
                                                    const std::string& locale, const std::string& text,
                                                    const Date& today, bool short_lists);

}  // namespace duijie::dialogs
