#pragma once
// People for the broadcast benchmarks: a third enterprise contacts (WeCom, mobile), the rest
// researchers (mobile; every second one an email too), as one transaction of prepared inserts.
#include <cstdint>
#include <string>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "store/connection.hpp"

namespace duijie::bench {

// Distinct for i below 90,000,000 and scattered over the number space, as people's numbers are:
// consecutive numbers would keep every index keyed by recipient on a few adjacent pages and hide
// what writing to such an index costs. (7,919,813 is coprime with 90,000,000.)
inline std::string BenchMobile(std::int64_t i) {
  std::string number = "+86139";  // appended, not '+': GCC 12 warns falsely (-Wrestrict) on the sum
  number += std::to_string(10'000'000 + (i * 7'919'813) % 90'000'000);
  return number;
}

inline void SeedPeople(store::Connection& c, int n) {
  auto& db = c.Db();
  SQLite::Transaction tx(db);
  SQLite::Statement person(db,
                           "INSERT INTO people (id, display_name, role, status, created_at, updated_at) VALUES (?, ?, "
                           "?, 'verified', 0, 0)");
  SQLite::Statement identity(db,
                             "INSERT INTO identities (person_id, kind, address, status, created_at) VALUES (?, ?, ?, "
                             "'verified', 0)");
  const auto add = [&identity](int id, const char* kind, const std::string& address) {
    identity.bind(1, id);
    identity.bind(2, kind);
    identity.bind(3, address);
    identity.exec();
    identity.reset();
  };
  for (int id = 1; id <= n; ++id) {
    const bool enterprise = id % 3 == 0;
    person.bind(1, id);
    person.bind(2, "用户" + std::to_string(id));
    person.bind(3, enterprise ? "enterprise_contact" : "researcher");
    person.exec();
    person.reset();
    add(id, "mobile", BenchMobile(id));
    if (enterprise) add(id, "wecom_userid", "u" + std::to_string(id));
    if (!enterprise && id % 2 == 0) add(id, "email", "r" + std::to_string(id) + "@example.edu.cn");
  }
  tx.commit();
}

}  // namespace duijie::bench
