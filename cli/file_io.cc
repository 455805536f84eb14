#include "cli/file_io.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cli/command.h"

namespace servertrack::cli {
namespace {

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  throw ToolError("cannot " + what + " " + path + ": " + std::strerror(error));
}

// fsync of the directory holding `path`, so that a rename into it survives a
// power cut; 0 or the errno.
int sync_directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  const int error = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

}  // namespace

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) fail("read", path, errno);
  const auto size = static_cast<std::size_t>(in.tellg());
  std::vector<std::byte> bytes(size);
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) fail("read", path, errno);
  return bytes;
}

void write_file_atomically(const std::string& path, std::span<const std::byte> bytes, bool replace) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) fail("create", temporary, errno);
  std::size_t written = 0;
  int error = 0;
  while (written < bytes.size() && error == 0) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno != EINTR) error = errno;
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 &&
      ::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, path.c_str(), replace ? 0 : RENAME_NOREPLACE) != 0) {
    error = errno;
  }
  if (error != 0) {
    ::unlink(temporary.c_str());
    if (error == EEXIST) throw ToolError(path + " already exists; --force overwrites it");
    fail("write", path, error);
  }
  if (const int sync_error = sync_directory_of(path); sync_error != 0) fail("sync the directory of", path, sync_error);
}

}  // namespace servertrack::cli
