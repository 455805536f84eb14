#include "http/token_file.h"

#include <fstream>

namespace servertrack::http {

std::string read_token_file(const std::string& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) return {};
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  return line;
}

}  // namespace servertrack::http
