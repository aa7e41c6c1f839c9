#include "store/readers.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

TEST(Readers, QueriesRunOffTheCallerThreadOnReadOnlyConnections) {
  net::io_context ioc;  // first: outlives the writer/readers whose completions it runs
  test::TestDb db;
  db.Conn().Exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)");
  Readers readers(db.Path(), {}, 2);
  const auto caller = std::this_thread::get_id();
  const auto query = [caller](Connection& c) {
    EXPECT_NE(std::this_thread::get_id(), caller);
    return c.Db().execAndGet("SELECT sum(v) FROM t").getInt();
  };
  EXPECT_EQ(test::RunAwaitable(ioc, readers.Run(query)), 3);
  const auto write = [](Connection& c) {
    c.Exec("INSERT INTO t VALUES (3)");
    return 0;
  };
  EXPECT_ANY_THROW(test::RunAwaitable(ioc, readers.Run(write)));
}

}  // namespace
}  // namespace duijie::store
