#include "common/error.hpp"

namespace duijie {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "duijie"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk:
        return "ok";
      case Errc::kInvalidArgument:
        return "invalid argument";
      case Errc::kNotFound:
        return "not found";
      case Errc::kConflict:
        return "conflict";
      case Errc::kUnavailable:
        return "unavailable";
      case Errc::kTimeout:
        return "timeout";
      case Errc::kPermissionDenied:
        return "permission denied";
      case Errc::kTooLarge:
        return "too large";
      case Errc::kInternal:
        return "internal error";
    }
    return "unknown error";
  }
};

}  // namespace

const std::error_category& ErrorCategory() noexcept {
  static const Category kCategory;
  return kCategory;
}

std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), ErrorCategory()}; }

}  // namespace duijie
