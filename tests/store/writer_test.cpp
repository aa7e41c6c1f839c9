#include "store/writer.hpp"

#include <atomic>
#include <filesystem>
#include <latch>
#include <stdexcept>

#include <gtest/gtest.h>

#include "support/run.hpp"
#include "support/test_db.hpp"

namespace duijie::store {
namespace {

void CreateTable(test::TestDb& db) { db.Conn().Exec("CREATE TABLE t (v INTEGER UNIQUE)"); }

TEST(Writer, RunSyncReturnsResultAfterCommit) {
  test::TestDb db;
  CreateTable(db);
  Writer writer(db.Path(), {});
  const auto id = writer.RunSync([](Connection& c) {
    c.Exec("INSERT INTO t VALUES (1)");
    return c.Db().getLastInsertRowid();
  });
  EXPECT_EQ(id, 1);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM t"), 1);  // visible to another connection: committed
}

// A job that reads one row of several and returns must not keep a read snapshot open: that
// would stop every checkpoint and grow the WAL without bound (found under load in the bench).
TEST(Writer, AHalfReadResultDoesNotPinTheWal) {
  test::TestDb db;
  CreateTable(db);
  Writer writer(db.Path(), {});
  writer.RunSync([](Connection& c) {
    c.Exec("INSERT INTO t VALUES (1), (2), (3)");
    auto& first = c.Prepare("SELECT v FROM t ORDER BY v");
    return first.executeStep() ? first.getColumn(0).getInt() : 0;  // left mid-result on purpose
  });
  db.Conn().Exec("PRAGMA busy_timeout = 0");
  SQLite::Statement checkpoint(db.Conn().Db(), "PRAGMA wal_checkpoint(TRUNCATE)");
  ASSERT_TRUE(checkpoint.executeStep());
  EXPECT_EQ(checkpoint.getColumn(0).getInt(), 0) << "checkpoint blocked by a reader";
  EXPECT_EQ(std::filesystem::file_size(db.Path() + "-wal"), 0U);
}

TEST(Writer, FailingJobIsRolledBackAloneAndOthersInTheBatchCommit) {
  test::TestDb db;
  CreateTable(db);
  Writer writer(db.Path(), {});
  // Hold the writer busy so the next three jobs land in one batch.
  std::latch started(1);
  std::latch release(1);
  writer.Submit(
      [&](Connection&) {
        started.count_down();
        release.wait();
      },
      [](std::exception_ptr) {});
  started.wait();
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::latch finished(3);
  auto done = [&](std::exception_ptr e) {
    (e ? failed : ok).fetch_add(1);
    finished.count_down();
  };
  writer.Submit([](Connection& c) { c.Exec("INSERT INTO t VALUES (10)"); }, done);
  writer.Submit(
      [](Connection& c) {
        c.Exec("INSERT INTO t VALUES (20)");
        throw std::runtime_error("boom");
      },
      done);
  writer.Submit([](Connection& c) { c.Exec("INSERT INTO t VALUES (30)"); }, done);
  release.count_down();
  finished.wait();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(failed.load(), 1);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM t WHERE v IN (10, 30)"), 2);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM t WHERE v = 20"), 0);
  // Group commit: the three queued jobs took one transaction.
  const auto stats = writer.GetStats();
  EXPECT_EQ(stats.jobs, 4U);
  EXPECT_EQ(stats.batches, 2U);
}

TEST(Writer, ConstraintViolationSurfacesAsException) {
  test::TestDb db;
  CreateTable(db);
  Writer writer(db.Path(), {});
  writer.RunSync([](Connection& c) { c.Exec("INSERT INTO t VALUES (1)"); });
  EXPECT_ANY_THROW(writer.RunSync([](Connection& c) { c.Exec("INSERT INTO t VALUES (1)"); }));
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM t"), 1);
}

TEST(Writer, StopFlushesQueuedJobsAndRefusesNewOnes) {
  test::TestDb db;
  CreateTable(db);
  auto writer = std::make_unique<Writer>(db.Path(), ConnectionOptions{});
  std::atomic<int> done{0};
  for (int i = 0; i < 500; ++i) {
    writer->Submit(
        [i](Connection& c) {
          auto& s = c.Prepare("INSERT INTO t VALUES (?)");
          s.bind(1, i);
          s.exec();
        },
        [&](std::exception_ptr e) {
          if (!e) done.fetch_add(1);
        });
  }
  writer->Stop();
  EXPECT_EQ(done.load(), 500);
  EXPECT_EQ(db.Scalar("SELECT count(*) FROM t"), 500);
  std::exception_ptr refused;
  writer->Submit([](Connection&) {}, [&](std::exception_ptr e) { refused = e; });
  EXPECT_TRUE(refused);
}

TEST(Writer, RunResumesCoroutineWithResult) {
  net::io_context ioc;  // first: outlives the writer/readers whose completions it runs
  test::TestDb db;
  CreateTable(db);
  Writer writer(db.Path(), {});
  const auto insert = [](Connection& c) {
    c.Exec("INSERT INTO t VALUES (7)");
    return std::string("inserted");
  };
  const auto result = test::RunAwaitable(ioc, writer.Run(insert));
  EXPECT_EQ(result, "inserted");
  const auto fail = [](Connection& c) { c.Exec("INSERT INTO t VALUES (7)"); };
  EXPECT_ANY_THROW(test::RunAwaitable(ioc, writer.Run(fail)));
}

}  // namespace
}  // namespace duijie::store
