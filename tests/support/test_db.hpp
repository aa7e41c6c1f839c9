#pragma once
#include <memory>
#include <string>

#include "store/connection.hpp"
#include "support/temp_dir.hpp"

namespace duijie::test {

/// A migrated database in a temp file (a real file, so WAL and several connections work like in
/// production), plus a connection to it.
class TestDb {
 public:
  TestDb();
  [[nodiscard]] const std::string& Path() const { return path_; }
  [[nodiscard]] store::Connection& Conn() { return *conn_; }
  /// A single integer from a query, for assertions.
  [[nodiscard]] long long Scalar(const std::string& sql);
  /// The rows most dialog tests start from: programme 1 (hubei-2020), person 1 the contact of
  /// enterprise 1 (`name`, in `region`, field `industry`).
  void SeedEnterprise(const std::string& name = "某公司", const std::string& region = "hb01",
                      const std::string& industry = "energy");

 private:
  TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Connection> conn_;
};

}  // namespace duijie::test
