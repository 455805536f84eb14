// libFuzzer target: any body through the line protocol reader
// (ingest/line_protocol.h), as POST /write reads it.
//
// Properties checked on every input (besides no crash, leak or UB):
// - the reader ends, and line numbers (of lines and errors) only grow;
// - an error carries a reason;
// - a line has a measurement and at least one field; its tags have a key and a
//   value, its fields a key; a float field is finite;
// - a line written back from its parts (measurement, tags, fields as written,
//   timestamp) reads back as one line with the same parts and field values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/line_protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using servertrack::fuzz::require;
using namespace servertrack::ingest;

std::vector<LineField> fields_of(const Line& line) {
  std::vector<LineField> fields;
  FieldCursor cursor(line.fields);
  LineField field;
  while (cursor.next(field)) {
    read_number(field);
    fields.push_back(field);
  }
  return fields;
}

std::size_t check_tags(const Line& line) {
  TagCursor cursor(line.tags);
  LineTag tag;
  std::size_t count = 0;
  while (cursor.next(tag)) {
    require(!tag.key.empty() && !tag.value.empty(), "a tag has a key and a value");
    ++count;
  }
  return count;
}

bool same_field(const LineField& a, const LineField& b) {
  return a.key == b.key && a.type == b.type && a.value == b.value &&
         (a.number == b.number) && a.integer == b.integer && a.unsigned_value == b.unsigned_value &&
         a.boolean == b.boolean;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  LineReader reader(body);
  Line line;
  LineError error;
  std::size_t last_number = 0;
  for (std::size_t turns = 0;; ++turns) {
    require(turns <= size + 1, "the reader ends");
    const LineReader::Next next = reader.next(line, error);
    if (next == LineReader::Next::end) break;
    if (next == LineReader::Next::error) {
      require(error.reason != nullptr && error.reason[0] != '\0', "an error has a reason");
      require(error.number > last_number, "line numbers grow");
      last_number = error.number;
      continue;
    }
    require(line.number > last_number, "line numbers grow");
    last_number = line.number;
    require(!line.measurement.empty(), "a line has a measurement");
    const std::size_t tags = check_tags(line);
    const std::vector<LineField> fields = fields_of(line);
    require(!fields.empty(), "a line has a field");
    for (const LineField& field : fields) {
      require(!field.key.empty(), "a field has a key");
      require(field.type != FieldType::float_number || std::isfinite(field.number), "a float is finite");
    }
    std::string again(line.measurement);
    if (!line.tags.empty()) again += "," + std::string(line.tags);
    again += " " + std::string(line.fields);
    if (line.timestamp) again += " " + std::to_string(*line.timestamp);
    again += "\n";
    LineReader second(again);
    Line reread;
    require(second.next(reread, error) == LineReader::Next::line, "a line written back reads back");
    require(reread.measurement == line.measurement && reread.tags == line.tags &&
                reread.fields == line.fields && reread.timestamp == line.timestamp,
            "a line written back has the same parts");
    require(check_tags(reread) == tags, "a line written back has the same tags");
    const std::vector<LineField> fields_again = fields_of(reread);
    require(fields_again.size() == fields.size(), "a line written back has the same fields");
    for (std::size_t i = 0; i < fields.size(); ++i) {
      require(same_field(fields[i], fields_again[i]), "a line written back has the same field values");
    }
    require(second.next(reread, error) == LineReader::Next::end, "a line written back is one line");
  }
  return 0;
}
