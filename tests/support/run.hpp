#pragma once
#include <exception>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "common/asio.hpp"

namespace duijie::test {

/// Runs `aw` on `ioc` until it completes and returns its result (rethrowing its exception).
/// Other work queued on `ioc` runs too; the context is restarted afterwards for further use.
template <class T>
T RunAwaitable(net::io_context& ioc, net::awaitable<T> aw) {
  std::exception_ptr error;
  std::optional<std::conditional_t<std::is_void_v<T>, int, T>> result;
  bool done = false;
  if constexpr (std::is_void_v<T>) {
    net::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e) {
      error = e;
      result.emplace(0);
      done = true;
      ioc.stop();
    });
  } else {
    net::co_spawn(ioc, std::move(aw), [&](std::exception_ptr e, T v) {
      error = e;
      if (!e) result.emplace(std::move(v));
      done = true;
      ioc.stop();
    });
  }
  ioc.restart();
  ioc.run();
  ioc.restart();
  if (!done) throw std::logic_error("awaitable did not complete");
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

/// Runs `aw` on `executor` (e.g. a strand) of `ioc` until it completes.
template <class T, class Executor>
T RunOn(net::io_context& ioc, Executor executor, net::awaitable<T> aw) {
  return RunAwaitable(ioc, net::co_spawn(executor, std::move(aw), net::use_awaitable));
}

}  // namespace duijie::test
