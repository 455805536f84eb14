// Whole-file reads and atomic whole-file writes for dump and restore.
// Cold path, any thread. Throw ToolError with the path and the reason.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace servertrack::cli {

std::vector<std::byte> read_file(const std::string& path);

// Writes to a temporary file beside `path`, fsyncs it, renames it over `path`
// (or, unless `replace`, refuses when `path` exists) and fsyncs the directory.
// A reader of `path` sees the old file or the whole new one, never a part,
// and once this returns the new file survives a power cut.
void write_file_atomically(const std::string& path, std::span<const std::byte> bytes, bool replace);

}  // namespace servertrack::cli
