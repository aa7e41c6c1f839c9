#pragma once
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/asio.hpp"
#include "store/connection.hpp"

namespace duijie::store {

/// Read-only connections on their own threads, so a query never blocks an I/O thread and never
/// waits for the writer (WAL gives each read a consistent snapshot).
class Readers {
 public:
  Readers(const std::string& path, const ConnectionOptions& options, std::size_t count);
  ~Readers();

  Readers(const Readers&) = delete;
  Readers& operator=(const Readers&) = delete;

  /// Runs fn(Connection&) on a reader thread and resumes the caller on its own executor.
  template <class Fn>
  auto Run(const Fn& fn) -> net::awaitable<std::invoke_result_t<const Fn&, Connection&>> {
    using R = std::invoke_result_t<const Fn&, Connection&>;
    // Named, not a temporary inside the co_await: see Writer::Run about GCC 12.
    const auto task = [this, fn]() -> net::awaitable<R> {
      Lease lease(*this);
      if constexpr (std::is_void_v<R>) {
        fn(*lease.conn);
        co_return;
      } else {
        co_return fn(*lease.conn);
      }
    };
    co_return co_await net::co_spawn(pool_.get_executor(), task, net::use_awaitable);
  }

  void Stop();

 private:
  struct Lease {
    explicit Lease(Readers& r);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Readers& owner;
    std::unique_ptr<Connection> conn;
  };

  std::string path_;
  ConnectionOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> free_;
  net::thread_pool pool_;
};

}  // namespace duijie::store
