#include "agent/spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace servertrack::agent {
namespace {

constexpr std::size_t kRecordBytes = sizeof(SpoolRecord);
constexpr const char* kRewriteName = ".rewrite";

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(errno, std::generic_category(), what + " " + path.string());
}

std::uint32_t record_crc(const SpoolRecord& record) noexcept {
  const auto* body = reinterpret_cast<const Bytef*>(&record.time);
  return static_cast<std::uint32_t>(
      crc32(crc32(0L, Z_NULL, 0), body, static_cast<uInt>(kRecordBytes - offsetof(SpoolRecord, time))));
}

// Writes all of `bytes` at `offset`; false on an error (errno set).
bool write_all_at(int fd, const void* bytes, std::size_t size, off_t offset) {
  const char* next = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t written = ::pwrite(fd, next, size, offset);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    next += written;
    size -= static_cast<std::size_t>(written);
    offset += written;
  }
  return true;
}

int open_file(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot open the spool file", path);
  return fd;
}

}  // namespace

SpoolRecord spool_record(const Sample& sample) noexcept {
  SpoolRecord record{kSpoolRecordMagic, 0, sample.time, sample.cpu, sample.ram};
  record.crc = record_crc(record);
  return record;
}

Spool::Spool(const std::filesystem::path& dir, std::string_view server_name, std::size_t capacity)
    : dir_(dir), file_(dir / server_name), capacity_(capacity) {
  std::error_code ignored;
  if (std::filesystem::create_directories(dir_, ignored)) ::chmod(dir_.c_str(), 0700);
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) fail("cannot open the spool directory", dir_);
  if (::flock(dir_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(dir_fd_);
    errno = error;
    fail(error == EWOULDBLOCK ? "another servertrack-agent holds the spool directory"
                              : "cannot lock the spool directory",
         dir_);
  }
  try {
    file_fd_ = open_file(file_, O_RDWR | O_CREAT);
    struct stat status {};
    if (::fstat(file_fd_, &status) != 0) fail("cannot stat the spool file", file_);
    std::vector<SpoolRecord> records(static_cast<std::size_t>(status.st_size) / kRecordBytes);
    const std::size_t whole_bytes = records.size() * kRecordBytes;
    const ssize_t read = ::pread(file_fd_, records.data(), whole_bytes, 0);
    if (read < 0 || static_cast<std::size_t>(read) != whole_bytes) {
      fail("cannot read the spool file", file_);
    }
    for (const SpoolRecord& record : records) {
      if (record.magic == kSpoolRecordMagic && record.crc == record_crc(record)) {
        samples_.push_back(Sample{record.time, record.cpu, record.ram});
      } else {
        ++dropped_when_opened_;
      }
    }
    const bool torn_tail = whole_bytes != static_cast<std::size_t>(status.st_size);
    if (torn_tail) ++dropped_when_opened_;
    const bool over_capacity = samples_.size() > capacity_;
    if (over_capacity) {
      samples_.erase(samples_.begin(),
                     samples_.begin() + static_cast<std::ptrdiff_t>(samples_.size() - capacity_));
    }
    if (dropped_when_opened_ > 0 || over_capacity) rewrite();
  } catch (...) {
    if (file_fd_ >= 0) ::close(file_fd_);
    ::close(dir_fd_);
    throw;
  }
}

Spool::~Spool() {
  ::close(file_fd_);
  ::close(dir_fd_);
}

std::span<const Sample> Spool::oldest(std::size_t count) const {
  return std::span<const Sample>(samples_).first(std::min(count, samples_.size()));
}

std::size_t Spool::append(const Sample& sample) {
  if (samples_.size() >= capacity_) {
    const std::size_t dropped = samples_.size() - capacity_ + 1;
    samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(dropped));
    samples_.push_back(sample);
    rewrite();
    return dropped;
  }
  // At the end of the whole records: a write that failed half-way is
  // overwritten by the next one rather than shifting every later record.
  const SpoolRecord record = spool_record(sample);
  const auto offset = static_cast<off_t>(samples_.size() * kRecordBytes);
  if (!write_all_at(file_fd_, &record, kRecordBytes, offset) || ::fsync(file_fd_) != 0) {
    fail("cannot write the spool file", file_);
  }
  samples_.push_back(sample);
  return 0;
}

void Spool::remove_oldest(std::size_t count) {
  count = std::min(count, samples_.size());
  if (count == 0) return;
  samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(count));
  rewrite();
}

void Spool::rewrite() {
  const std::filesystem::path temporary = dir_ / kRewriteName;
  const int fd = open_file(temporary, O_WRONLY | O_CREAT | O_TRUNC);
  std::vector<SpoolRecord> records;
  records.reserve(samples_.size());
  for (const Sample& sample : samples_) records.push_back(spool_record(sample));
  const bool written = write_all_at(fd, records.data(), records.size() * kRecordBytes, 0) &&
                       ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  errno = error;
  if (!written) fail("cannot write the spool file", temporary);
  if (::rename(temporary.c_str(), file_.c_str()) != 0) fail("cannot replace the spool file", file_);
  if (::fsync(dir_fd_) != 0) fail("cannot sync the spool directory", dir_);
  ::close(file_fd_);
  file_fd_ = open_file(file_, O_RDWR);
}

}  // namespace servertrack::agent
