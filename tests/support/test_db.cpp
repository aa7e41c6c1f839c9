#include "support/test_db.hpp"

#include <stdexcept>

#include "store/migrations.hpp"

namespace duijie::test {

TestDb::TestDb() : path_(dir_.File("test.db")) {
  conn_ = std::make_unique<store::Connection>(path_, store::ConnectionOptions{});
  const auto report = store::Migrate(*conn_);
  if (!report) throw std::runtime_error(report.error().message);
}

long long TestDb::Scalar(const std::string& sql) { return conn_->Db().execAndGet(sql).getInt64(); }

void TestDb::SeedEnterprise(const std::string& name, const std::string& region, const std::string& industry) {
  auto& db = conn_->Db();
  db.exec("INSERT INTO programmes (id, code, name, definition, created_at) VALUES (1, 'hubei-2020', 'h', '{}', 0)");
  db.exec(
      "INSERT INTO people (id, role, status, created_at, updated_at) VALUES (1, 'enterprise_contact', 'verified', 0, "
      "0)");
  SQLite::Statement ins(db,
                        "INSERT INTO enterprises (id, name, credit_code, region, industry, contact_person_id, "
                        "created_at, updated_at) VALUES (1, ?, '91420100MA4K00000X', ?, ?, 1, 0, 0)");
  ins.bind(1, name);
  ins.bind(2, region);
  ins.bind(3, industry);
  ins.exec();
}

}  // namespace duijie::test
