// InfluxDB's line protocol (the body of POST /write and /api/v2/write, what
// Telegraf sends; docs/design.md, "Other agents"), read line by line:
//
//   measurement[,tag_key=tag_value...] field_key=value[,field_key=value...] [timestamp]
//
// - lines end at '\n' ("\r\n" too); blank lines and lines whose first non-blank
//   character is '#' are skipped; leading and trailing spaces and tabs are allowed;
// - a backslash escapes the next character: the measurement's ',' and ' ', a tag
//   key's, tag value's or field key's ',', '=' and ' '; elsewhere (and before
//   another character) it stands for itself (unescape() gives the text);
// - field values: float (1, -1.5, 1e3, .5; finite, no "nan"/"inf"), integer
//   (12i, int64), unsigned (12u, uint64), boolean (t T true True TRUE f F false
//   False FALSE), string ("..." with \" and \\ escapes; may span lines);
// - at least one field; tags and fields keys non-empty, tag values non-empty;
// - the timestamp is an optional integer (int64, may be negative) in the
//   request's precision (timestamp_to_ms()).
//
// Pure functions and a reader over one body; any thread; no allocation (the
// views point into the body; a field's or tag's escaped text is unescaped only
// on request, into the caller's buffer). Errors are values: the line's number
// (from 1) and a sentence. Cost linear in the body.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace servertrack::ingest {

enum class FieldType { float_number, integer, unsigned_integer, boolean, string };

struct LineField {
  std::string_view key;    // as written (escaped)
  FieldType type = FieldType::float_number;
  std::string_view value;  // as written: digits with their suffix, the boolean's word,
                           // or the string between its quotes (escaped)
  // Set by read_number() (a FieldCursor leaves them 0: most fields are not looked at):
  double number = 0;       // float_number, and integer / unsigned_integer converted
  std::int64_t integer = 0;        // integer
  std::uint64_t unsigned_value = 0;  // unsigned_integer
  bool boolean = false;    // boolean (set by the cursor)
};

struct LineTag {
  std::string_view key;    // as written (escaped)
  std::string_view value;  // as written (escaped)
};

// One line, already checked whole: its tags and fields read back without error.
struct Line {
  std::size_t number = 0;         // from 1, counting every '\n' of the body before it
  std::string_view text;          // the whole line, without its end of line
  std::string_view measurement;   // as written (escaped)
  std::string_view tags;          // "k=v,k=v" (escaped), "" without tags
  std::string_view fields;        // "k=v,k=v"
  std::optional<std::int64_t> timestamp;
};

struct LineError {
  std::size_t number = 0;  // the line's number, from 1
  std::string_view text;   // the line (up to its end), for the answer
  const char* reason = "";  // e.g. "missing fields", a static sentence
};

// The tags, then the fields, of a checked Line, in their written order.
class TagCursor {
 public:
  explicit TagCursor(std::string_view tags) : rest_(tags) {}
  bool next(LineTag& tag);

 private:
  std::string_view rest_;
};

class FieldCursor {
 public:
  explicit FieldCursor(std::string_view fields) : rest_(fields) {}
  bool next(LineField& field);

 private:
  std::string_view rest_;
};

// Reads the number of a float, integer or unsigned field of a checked line
// into `number` (and `integer` / `unsigned_value`); other types are left alone.
void read_number(LineField& field);

class LineReader {
 public:
  explicit LineReader(std::string_view body) : rest_(body) {}

  enum class Next { line, error, end };
  // The next line (into `line`), or the next line's error (into `error`; the
  // reader goes on with the line after it), or the end of the body.
  Next next(Line& line, LineError& error);

 private:
  std::string_view rest_;
  std::size_t number_ = 0;  // lines started so far
};

// Which part of a line a text comes from: what its backslashes escape.
enum class Escaped { measurement, key_or_tag_value, string_value };

// `text` with its escapes resolved, into `out` (cleared first; it keeps its
// capacity, so a reused buffer does not allocate).
void unescape(std::string_view text, Escaped part, std::string& out);

// The unit of the timestamps in a request: "ns" (also "n"), "us" (also "u"),
// "ms", "s", "m", "h"; nullopt for anything else.
enum class Precision { ns, us, ms, s, m, h };
std::optional<Precision> precision_from_name(std::string_view name);

// The timestamp in unix milliseconds, rounded to the nearest; nullopt when it
// does not fit in int64.
std::optional<std::int64_t> timestamp_to_ms(std::int64_t timestamp, Precision precision);

}  // namespace servertrack::ingest
