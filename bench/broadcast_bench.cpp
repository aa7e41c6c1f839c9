// Broadcast planning at national scale (issue 9): N people in the store, one broadcast to all of
// them — the audience taken (who, at sending time) and every person's message planned into the
// outbox (channel order, opt-outs, caps, rendering, fallback addresses) in batches, each a write
// transaction as the gateway runs them. Prints the time to the audience and the first window of
// messages, the time to plan everyone, and the peak resident memory. Goals: planning <= 10 s
// and <= 500 MB for 1,000,000 people.
//   broadcast_bench <people> <database path> [batch]
#include <chrono>
#include <iostream>

#include "broadcast_seed.hpp"
#include "dialogs/broadcasts.hpp"
#include "store/migrations.hpp"
#include <sys/resource.h>

namespace {

long PeakKb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace duijie;
  using Clk = std::chrono::steady_clock;
  if (argc < 3) {
    std::cerr << "usage: broadcast_bench <people> <database> [batch]\n";
    return 2;
  }
  const int n = std::stoi(argv[1]);
  const int batch = argc > 3 ? std::stoi(argv[3]) : 2000;
  store::Connection c(argv[2], {});
  if (!store::Migrate(c)) return 1;
  auto t = Clk::now();
  bench::SeedPeople(c, n);
  const double seed_s = std::chrono::duration<double>(Clk::now() - t).count();
  const long rss_seeded = PeakKb();

  const auto& programme = dialogs::Programme::Embedded().at("hubei-2020");
  const auto& catalogue = dialogs::Catalogue::Embedded();
  const dialogs::Staff staff{"bench", "admin", std::nullopt};
  const auto now = FromUnixMillis(1'795'305'600'000);
  t = Clk::now();
  auto audience =
      dialogs::ParseAudience(nlohmann::json{{"roles", {"enterprise_contact", "researcher"}}}, programme, staff);
  const auto count = dialogs::CountAudience(c, *audience, programme, *dialogs::ParseIsoDate("2026-11-22"));
  const double count_s = std::chrono::duration<double>(Clk::now() - t).count();

  const nlohmann::json request = {{"title", "合同签订提醒"},
                                  {"audience", {{"roles", {"enterprise_contact", "researcher"}}}},
                                  {"message", {{"title", "提醒"}, {"text", "{name}您好，合同请于{deadline}前签订。"}}},
                                  {"vars", {{"deadline", "2月28日"}}},
                                  {"send_at", "now"}};
  t = Clk::now();
  {
    SQLite::Transaction tx(c.Db());
    if (!dialogs::CreateBroadcast(c, programme, catalogue, staff, request, "bench", now)) return 1;
    tx.commit();
  }
  // As the gateway runs it: the audience taken, then batches until the window of waiting
  // messages is full (the rest is planned as the dispatcher drains it).
  dialogs::BroadcastPolicy policy;
  dialogs::BroadcastRound total;
  int transactions = 0;
  const auto rounds = [&]() {
    for (bool more = true; more; ++transactions) {
      SQLite::Transaction tx(c.Db());
      const auto r = dialogs::RunBroadcasts(c, programme, catalogue, policy, now, batch);
      tx.commit();
      total.planned += r.planned;
      total.skipped += r.skipped;
      more = r.more;
    }
  };
  rounds();
  const double window_s = std::chrono::duration<double>(Clk::now() - t).count();
  const int window_planned = total.planned;
  // The whole audience at once (no window): the sustained planning rate.
  policy.window = 0;
  rounds();
  const double plan_s = std::chrono::duration<double>(Clk::now() - t).count();
  const long outbox = c.Db().execAndGet("SELECT count(*) FROM outbox").getInt64();
  std::cout << "people                 " << n << " (seeded in " << seed_s << " s)\n"
            << "audience count         " << count << " in " << count_s * 1000 << " ms\n"
            << "audience + 1st window  " << window_s << " s (" << window_planned << " messages queued, the window "
            << dialogs::BroadcastPolicy{}.window << ")\n"
            << "all planned            " << plan_s << " s (" << transactions << " write transactions of " << batch
            << ")\n"
            << "messages planned       " << total.planned << " (outbox rows " << outbox << ", skipped " << total.skipped
            << ")\n"
            << "rate                   " << static_cast<long>(total.planned / plan_s) << " people/s\n"
            << "peak RSS               " << PeakKb() / 1024 << " MB (after seeding " << rss_seeded / 1024 << " MB)\n";
  return total.planned == n ? 0 : 1;
}
