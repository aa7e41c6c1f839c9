#include "store/documents.hpp"

#include <cstdio>

#include "common/digest.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace duijie::store {
namespace {

// Writes `bytes` to `path` durably: a temporary file, fsync, rename. An existing file with the
// same name has the same content (the name is its hash) and is kept.
Result<void> WriteOnce(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return {};
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Error(Errc::kUnavailable, "cannot create " + path.parent_path().string() + ": " + ec.message());
  const auto tmp = path.string() + ".part";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Error(Errc::kUnavailable, "cannot write " + tmp);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Error(Errc::kUnavailable, "cannot write " + tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error(Errc::kUnavailable, "cannot store " + path.string());
  }
  return {};
}

}  // namespace

Result<StoredDocument> AddDocument(Connection& c, const std::filesystem::path& files_dir, std::string_view bytes,
                                   const NewDocument& doc, std::int64_t now_ms) {
  StoredDocument out;
  out.sha256 = Sha256Hex(bytes);
  const std::string storage_path = out.sha256.substr(0, 2) + "/" + out.sha256;
  if (auto written = WriteOnce(files_dir / storage_path, bytes); !written) return written.error();
  auto& exists = c.Prepare("SELECT 1 FROM documents WHERE sha256 = :sha AND inbox_id IS :inbox");
  exists.bind(":sha", out.sha256);
  if (doc.inbox_id) {
    exists.bind(":inbox", *doc.inbox_id);
  } else {
    exists.bind(":inbox");
  }
  const bool known = exists.executeStep();
  exists.reset();
  if (known) return out;
  auto& ins = c.Prepare(
      "INSERT INTO documents (kind, file_name, media_type, size_bytes, sha256, storage_path, source_channel, "
      "inbox_id, created_at) VALUES ('other', :name, :type, :size, :sha, :path, :source, :inbox, :now)");
  ins.bind(":name", doc.file_name.substr(0, 255));
  ins.bind(":type", doc.media_type.substr(0, 127));
  ins.bind(":size", static_cast<std::int64_t>(bytes.size()));
  ins.bind(":sha", out.sha256);
  ins.bind(":path", storage_path);
  ins.bind(":source", doc.source_channel);
  if (doc.inbox_id) {
    ins.bind(":inbox", *doc.inbox_id);
  } else {
    ins.bind(":inbox");
  }
  ins.bind(":now", now_ms);
  ins.exec();
  out.created = true;
  return out;
}

}  // namespace duijie::store
