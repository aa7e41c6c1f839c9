#include "dialogs/push_plan.hpp"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace duijie::dialogs {
namespace {

std::vector<matcher::Match> Ranked(std::initializer_list<std::pair<std::int64_t, float>> list) {
  std::vector<matcher::Match> out;
  for (const auto& [id, score] : list) out.push_back(matcher::Match{id, score, {}, {}});
  return out;
}

TEST(PlanPushes, TakesTheBestAboveTheFloorUpToTheMaximum) {
  const PushPolicy policy{.per_week = 3, .per_need_min = 2, .per_need_max = 3, .score_floor = 0.5};
  const auto ranked = Ranked({{1, 10}, {2, 9}, {3, 8}, {4, 7}, {5, 2}});
  EXPECT_EQ(PlanPushes(ranked, policy, {}), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(PlanPushes, GoesBelowTheFloorOnlyToReachTheMinimum) {
  const PushPolicy policy{.per_week = 3, .per_need_min = 3, .per_need_max = 10, .score_floor = 0.5};
  const auto ranked = Ranked({{1, 10}, {2, 4}, {3, 3}, {4, 2}});
  EXPECT_EQ(PlanPushes(ranked, policy, {}), (std::vector<std::int64_t>{1, 2, 3}));
}

TEST(PlanPushes, SkipsResearchersAtTheWeeklyCap) {
  const PushPolicy policy{.per_week = 2, .per_need_min = 2, .per_need_max = 2, .score_floor = 0.1};
  const auto ranked = Ranked({{1, 10}, {2, 9}, {3, 8}});
  const auto plan = PlanPushes(ranked, policy, [](std::int64_t id) { return id == 1 ? 2 : 0; });
  EXPECT_EQ(plan, (std::vector<std::int64_t>{2, 3}));
}

TEST(PlanPushes, NoCandidatesNoPushes) {
  EXPECT_TRUE(PlanPushes({}, PushPolicy{}, {}).empty());
  const auto ranked = Ranked({{1, 10}});
  EXPECT_EQ(PlanPushes(ranked, PushPolicy{}, {}), (std::vector<std::int64_t>{1}));
}

// 1,000 needs published in one week over a pool where a few researchers top every list (the
// best-known): nobody goes above the cap, and every need still reaches five people.
TEST(PlanPushes, FairAcrossAThousandNeeds) {
  const PushPolicy policy;  // 3 a week, at least 5, at most 10, floor 0.35
  std::mt19937 rng(42);
  constexpr int kPool = 4000;
  std::map<std::int64_t, int> pushes;
  int needs_short = 0;
  for (int need = 0; need < 1000; ++need) {
    // 60 candidates; the famous ten (ids 1..10) always lead, the rest drawn from the pool.
    std::vector<matcher::Match> ranked;
    float score = 20;
    for (int i = 1; i <= 10; ++i) ranked.push_back({i, score -= 0.1F, {}, {}});
    std::uniform_int_distribution<std::int64_t> pick(11, kPool);
    for (int i = 0; i < 50; ++i) ranked.push_back({pick(rng), score -= 0.25F, {}, {}});
    const auto plan = PlanPushes(ranked, policy, [&](std::int64_t id) { return pushes[id]; });
    int available = 0;
    for (const auto& m : ranked) available += pushes[m.id] < policy.per_week ? 1 : 0;
    if (plan.size() < 5 && available >= 5) ++needs_short;
    for (const auto id : plan) ++pushes[id];
  }
  for (const auto& [id, n] : pushes) ASSERT_LE(n, policy.per_week) << "researcher " << id;
  EXPECT_EQ(needs_short, 0);
  EXPECT_EQ(pushes[1], 3);
}

TEST(Shortlist, LeavesOutTheIneligibleAndThoseAtCapacityAndWeighsNotMyField) {
  const auto& programme = Programme::Embedded().at("hubei-2020");
  const auto ranked = Ranked({{1, 10}, {2, 9}, {3, 8}, {4, 7}, {5, 6}, {6, 5}});
  const std::map<std::int64_t, store::Standing> standings = {
      {1, {"masters_student", 1, 0, 0}},   // the programme does not admit this type
      {2, {"university_staff", 1, 1, 0}},  // already in one project, takes one at a time
      {3, {"university_staff", 2, 1, 0}},  // room for one more
      {4, {"university_staff", 1, 0, 2}},  // said "not my field" twice: 7 × 0.25
      {5, {"institute_staff", 1, 0, 0}}};  // 6 has no standing: no longer a researcher
  const auto list = Shortlist(ranked, standings, programme, 10);
  ASSERT_EQ(list.size(), 3U);
  EXPECT_EQ(list[0].id, 3);
  EXPECT_EQ(list[1].id, 5);
  EXPECT_EQ(list[2].id, 4);
  EXPECT_FLOAT_EQ(list[2].score, 7 * 0.25F);
  EXPECT_EQ(Shortlist(ranked, standings, programme, 1).size(), 1U);
}

TEST(NotMyFieldFactor, HalvesPerAnswerWithAFloor) {
  EXPECT_FLOAT_EQ(NotMyFieldFactor(0), 1.0F);
  EXPECT_FLOAT_EQ(NotMyFieldFactor(1), 0.5F);
  EXPECT_FLOAT_EQ(NotMyFieldFactor(2), 0.25F);
  EXPECT_FLOAT_EQ(NotMyFieldFactor(10), 0.1F);
}

}  // namespace
}  // namespace duijie::dialogs
