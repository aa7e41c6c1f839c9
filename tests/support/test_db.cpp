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

}  // namespace duijie::test
