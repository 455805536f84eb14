#include "ingest/line_sample.h"

#include "shm/segment.h"

namespace servertrack::ingest {
namespace {

LineSample refused(Rejection reason, const char* message) {
  LineSample result;
  result.kind = LineSample::Kind::refused;
  result.reason = reason;
  result.message = message;
  return result;
}

bool is_number(const LineField& field) { return field.type != FieldType::string && field.type != FieldType::boolean; }

}  // namespace

LineSample line_sample(const Line& line, Precision precision) {
  const bool cpu = line.measurement == "cpu";
  const bool mem = line.measurement == "mem";
  const bool direct = line.measurement == "servertrack";
  if (!cpu && !mem && !direct) return {};
  LineSample result;
  bool has_host = false;
  TagCursor tags(line.tags);
  LineTag tag;
  while (tags.next(tag)) {
    if (tag.key == "host") {
      result.name = tag.value;
      has_host = true;
    }
    if (cpu && tag.key == "cpu" && tag.value != "cpu-total") return {};
  }
  const LineField* idle = nullptr;
  const LineField* available = nullptr;
  const LineField* used = nullptr;
  const LineField* direct_cpu = nullptr;
  const LineField* direct_ram = nullptr;
  LineField fields[5];
  FieldCursor cursor(line.fields);
  LineField field;
  while (cursor.next(field)) {
    const auto keep = [&fields, &field](const LineField*& slot, int index) {
      fields[index] = field;
      read_number(fields[index]);
      slot = &fields[index];
    };
    if (cpu && field.key == "usage_idle") keep(idle, 0);
    if (mem && field.key == "available_percent") keep(available, 1);
    if (mem && field.key == "used_percent") keep(used, 2);
    if (direct && field.key == "cpu") keep(direct_cpu, 3);
    if (direct && field.key == "ram") keep(direct_ram, 4);
  }
  const LineField* percent = cpu ? idle : available != nullptr ? available : used;
  if (!direct && percent == nullptr) return {};
  if (!has_host) return refused(Rejection::invalid_name, "the line has no host tag, which names the server");
  Sample& sample = result.sample;
  if (direct) {
    if (direct_cpu == nullptr && direct_ram == nullptr) {
      return refused(Rejection::invalid_value, "a servertrack line needs the field cpu, ram or both");
    }
    for (const LineField* value : {direct_cpu, direct_ram}) {
      if (value != nullptr && (!is_number(*value) || value->number < 0 || value->number > shm::kMaxSampleValue)) {
        return refused(Rejection::invalid_value, "cpu and ram must be numbers from 0 to 1e15");
      }
    }
    sample.has_cpu = direct_cpu != nullptr;
    sample.cpu = sample.has_cpu ? direct_cpu->number : 0;
    sample.has_ram = direct_ram != nullptr;
    sample.ram = sample.has_ram ? direct_ram->number : 0;
  } else {
    if (!is_number(*percent) || percent->number < 0 || percent->number > 100) {
      return refused(Rejection::invalid_value,
                     cpu ? "usage_idle must be a number from 0 to 100"
                         : "available_percent and used_percent must be numbers from 0 to 100");
    }
    const double value = percent == used ? percent->number : 100 - percent->number;
    sample.has_cpu = cpu;
    sample.cpu = cpu ? value : 0;
    sample.has_ram = mem;
    sample.ram = mem ? value : 0;
  }
  if (line.timestamp) {
    const auto time_ms = timestamp_to_ms(*line.timestamp, precision);
    if (!time_ms || *time_ms < 0) {
      return refused(Rejection::invalid_time, "the timestamp is not a time after 1970 in the request's precision");
    }
    sample.has_time = true;
    sample.time_ms = *time_ms;
  }
  result.kind = LineSample::Kind::sample;
  return result;
}

}  // namespace servertrack::ingest
