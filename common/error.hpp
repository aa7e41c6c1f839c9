#pragma once
#include <string>
#include <system_error>
#include <utility>

#include <boost/system/result.hpp>

namespace duijie {

/// The error vocabulary the layers share. Adapters (SQLite, curl, OpenSSL) map their own codes
/// onto these so callers above them never see a library-specific code.
enum class Errc {
  kOk = 0,
  kInvalidArgument = 1,  // the caller sent something malformed
  kNotFound,
  kConflict,     // a uniqueness or state rule refused the change
  kUnavailable,  // transient: retry later
  kTimeout,
  kPermissionDenied,
  kTooLarge,
  kInternal,  // a bug or an impossible state surfaced as a value at an edge
};

const std::error_category& ErrorCategory() noexcept;
std::error_code make_error_code(Errc e) noexcept;  // NOLINT(readability-identifier-naming): ADL hook

/// An error with a machine code and a human message for logs and API bodies.
struct Error {
  std::error_code code;
  std::string message;

  Error() = default;
  Error(Errc c, std::string msg) : code(make_error_code(c)), message(std::move(msg)) {}
  Error(std::error_code c, std::string msg) : code(c), message(std::move(msg)) {}
};

/// Value-or-error for normal-flow failures (Abseil TotW #76 in Boost's spelling).
template <class T>
using Result = boost::system::result<T, Error>;

}  // namespace duijie

template <>
struct std::is_error_code_enum<duijie::Errc> : std::true_type {};

namespace boost::system {
// boost::system::result needs to know how to throw our error type when value() is called on an
// error; it is a programming error to do so, so it surfaces as std::system_error.
// NOLINTNEXTLINE(readability-identifier-naming): the name Boost looks up
[[noreturn]] inline void throw_exception_from_error(const duijie::Error& e, const boost::source_location&) {
  throw std::system_error(e.code, e.message);
}
}  // namespace boost::system
