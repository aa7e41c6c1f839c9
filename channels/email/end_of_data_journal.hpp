#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_set>

namespace duijie::channels::email {

/// Which mails got as far as the end of their DATA (the last moment before the server can
/// accept them), and which the server then took, kept in a file so that it survives the process.
/// For a mail claimed by a process that was killed: taken → it was sent; not in here → without
/// its terminating dot the server cannot have it, so it is resent; ended but not taken → nobody
/// can say, so it is never sent again.
///
/// One line per event ("<id>" ended, "<id>+" taken), appended with O_APPEND (a SIGKILL loses nothing the kernel took; a
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

  /// Records that the server took mail `id` (its 250 after the data).
  void MarkTaken(std::int64_t id);

  enum class State {
    kUnseen,  // its DATA never ended here: the server cannot have it
    kEnded,   // the data went out, the server's answer is not known
    kTaken,   // the server took it
  };
  /// What is known of `id`, from this process or one before it (within the two generations).
  [[nodiscard]] State Of(std::int64_t id) const;

  /// Whether the journal file is usable; when not, every unseen id counts as kEnded.
  [[nodiscard]] bool Usable() const;

 private:
  struct Generation {
    std::unordered_set<std::int64_t> ended;
    std::unordered_set<std::int64_t> taken;
  };
  static void Load(const std::string& file, Generation& into);
  void OpenCurrent();
  void Append(std::int64_t id, bool taken);

  std::string path_;
  std::size_t rotate_bytes_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::size_t size_ = 0;
  Generation current_;
  Generation previous_;
};

}  // namespace duijie::channels::email
