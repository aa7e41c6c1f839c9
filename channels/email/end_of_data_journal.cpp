#include "channels/email/end_of_data_journal.hpp"

#include <charconv>
#include <cstdio>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace duijie::channels::email {

EndOfDataJournal::EndOfDataJournal(std::string path, std::size_t rotate_bytes)
    : path_(std::move(path)), rotate_bytes_(rotate_bytes) {
  Load(path_ + ".1", previous_);
  Load(path_, current_);
  OpenCurrent();
}

EndOfDataJournal::~EndOfDataJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void EndOfDataJournal::Load(const std::string& file, Generation& into) {
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Only whole lines: one cut short by a crash mid-write (no newline yet) is not an id.
  std::size_t start = 0;
  for (std::size_t nl = text.find('\n'); nl != std::string::npos; start = nl + 1, nl = text.find('\n', start)) {
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data() + start, text.data() + nl, id);
    if (ec != std::errc()) continue;
    if (end == text.data() + nl) {
      into.ended.insert(id);
    } else if (*end == '+' && end + 1 == text.data() + nl) {
      into.taken.insert(id);
    }
  }
}

void EndOfDataJournal::OpenCurrent() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  struct stat st {};
  size_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 ? static_cast<std::size_t>(st.st_size) : 0;
  // A line cut short by a crash gets its end, so the next id is not glued to it.
  char last = '\n';
  if (size_ > 0 && ::pread(fd_, &last, 1, static_cast<off_t>(size_ - 1)) == 1 && last != '\n' &&
      ::write(fd_, "\n", 1) == 1) {
    ++size_;
  }
}

void EndOfDataJournal::Mark(std::int64_t id) { Append(id, false); }

void EndOfDataJournal::MarkTaken(std::int64_t id) { Append(id, true); }

void EndOfDataJournal::Append(std::int64_t id, bool taken) {
  const std::string line = std::to_string(id) + (taken ? "+\n" : "\n");
  const std::lock_guard lock(mu_);
  if (fd_ >= 0 && size_ + line.size() > rotate_bytes_) {
    ::close(fd_);
    fd_ = -1;
    if (std::rename(path_.c_str(), (path_ + ".1").c_str()) == 0) {
      previous_ = std::move(current_);
      current_ = {};
    }
    OpenCurrent();
  }
  (taken ? current_.taken : current_.ended).insert(id);
  if (fd_ < 0) return;
  if (::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
    size_ += line.size();
  } else {
    ::close(fd_);
    fd_ = -1;
  }
}

EndOfDataJournal::State EndOfDataJournal::Of(std::int64_t id) const {
  const std::lock_guard lock(mu_);
  if (current_.taken.contains(id) || previous_.taken.contains(id)) return State::kTaken;
  if (fd_ < 0 || current_.ended.contains(id) || previous_.ended.contains(id)) return State::kEnded;
  return State::kUnseen;
}

bool EndOfDataJournal::Usable() const {
  const std::lock_guard lock(mu_);
  return fd_ >= 0;
}

}  // namespace duijie::channels::email
