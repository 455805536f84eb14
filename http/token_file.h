// A bearer token kept in a file: its first line without trailing blanks.
// Read by servertrack-agent (--token-file), once at start-up, before any
// thread starts. (The workers' token files: http/access_tokens.h.)
//
// One small file read; the content is never printed.
#pragma once

#include <string>

namespace servertrack::http {

// The file's first line without trailing spaces, tabs or CR; empty when the
// file cannot be read or that line is empty (callers refuse an empty token).
std::string read_token_file(const std::string& path);

}  // namespace servertrack::http
