#include "store/readers.hpp"

namespace duijie::store {

Readers::Readers(const std::string& path, const ConnectionOptions& options, std::size_t count)
    : path_(path), options_(options), pool_(count == 0 ? 1 : count) {
  options_.read_only = true;
}

Readers::~Readers() { Stop(); }

void Readers::Stop() {
  // Reads already queued run to the end (they are short, and read-only) rather than being
  // abandoned: an abandoned one is destroyed with the pool, after the I/O contexts its caller
  // waits on are gone (a use-after-free at exit that ThreadSanitizer found in the server tests).
  pool_.join();
}

Readers::Lease::Lease(Readers& r) : owner(r) {
  {
    std::lock_guard lock(owner.mu_);
    if (!owner.free_.empty()) {
      conn = std::move(owner.free_.back());
      owner.free_.pop_back();
    }
  }
  // Connections are opened lazily, so a pool never holds more than its threads can use.
  if (!conn) conn = std::make_unique<Connection>(owner.path_, owner.options_);
}

Readers::Lease::~Lease() {
  if (conn) conn->ResetStatements();  // an idle reader must not pin a WAL snapshot
  std::lock_guard lock(owner.mu_);
  owner.free_.push_back(std::move(conn));
}

}  // namespace duijie::store
