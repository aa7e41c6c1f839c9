#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>

namespace duijie::channels::email {

/// Which mails got as far as the end of their DATA (the last moment before the server can
/// accept them), kept in a file so that it survives the process. A mail claimed by a process
/// that was killed is resent only when it is not in here: without its terminating dot the
/// server cannot have taken it, with it nobody can say, so it is never sent again.
///
/// One line per outbox id, appended with O_APPEND (a SIGKILL loses nothing the kernel took; a
/// power loss may, and then a mail may go twice under the same Message-ID). The file rotates at
/// `rotate_bytes` into `<path>.1`; both generations are read at start.
class EndOfDataJournal {
 public:
  explicit EndOfDataJournal(std::string path, std::size_t rotate_bytes = 1U << 20U);
  ~EndOfDataJournal();
  EndOfDataJournal(const EndOfDataJournal&) = delete;
  EndOfDataJournal& operator=(const EndOfDataJournal&) = delete;

  /// Records that mail `id` is about to be finished. Called from a transfer thread; never throws
  /// (a journal that cannot be written makes every in-doubt mail "maybe sent", the safe side).
  void Mark(std::int64_t id);

  /// Whether `id` was marked, by this process or one before it (within the two generations).
  [[nodiscard]] bool Marked(std::int64_t id) const;

  /// Whether the journal file is usable; when not, Marked is true for every id.
  [[nodiscard]] bool Usable() const;

 private:
  void Load(const std::string& file, std::unordered_set<std::int64_t>& into);
  void OpenCurrent();

  std::string path_;
  std::size_t rotate_bytes_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::size_t size_ = 0;
  std::unordered_set<std::int64_t> current_;
  std::unordered_set<std::int64_t> previous_;
};

}  // namespace duijie::channels::email
