#include "ingest/sample_parser.h"

#include <cmath>

#include "http/request_body.h"
#include "shm/segment.h"

namespace servertrack::ingest {
namespace {

constexpr const char* kExample = R"(; send an object like {"cpu": 12.5, "ram": 40.1})";

// The year 5138 in unix seconds: a larger "time" is surely milliseconds.
constexpr double kLatestTime = 1e11;

ParsedSample refuse(SampleProblem problem, std::string message) {
  return ParsedSample{.ok = false, .sample = {}, .error = std::move(message), .problem = problem};
}

}  // namespace

const char* json_type_name(simdjson::dom::element_type type) {
  switch (type) {
    case simdjson::dom::element_type::ARRAY: return "an array";
    case simdjson::dom::element_type::OBJECT: return "an object";
    case simdjson::dom::element_type::STRING: return "a string";
    case simdjson::dom::element_type::BOOL: return "a boolean";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

ParsedSample sample_from_json(simdjson::dom::element value) {
  simdjson::dom::object object;
  if (value.get(object) != simdjson::SUCCESS) {
    return refuse(SampleProblem::invalid_value,
                  std::string("the sample is ") + json_type_name(value.type()) +
                      ", not a JSON object" + kExample);
  }
  Sample sample;
  double time = 0;
  for (const auto field : object) {
    double* target = nullptr;
    bool* seen = nullptr;
    if (field.key == "cpu") {
      target = &sample.cpu;
      seen = &sample.has_cpu;
    } else if (field.key == "ram") {
      target = &sample.ram;
      seen = &sample.has_ram;
    } else if (field.key == "time") {
      target = &time;
      seen = &sample.has_time;
    } else {
      continue;
    }
    const std::string key(field.key);
    if (*seen) {
      return refuse(SampleProblem::invalid_value,
                    "the member \"" + key + "\" appears more than once" + kExample);
    }
    *seen = true;
    if (field.value.get(*target) != simdjson::SUCCESS) {
      return refuse(SampleProblem::invalid_value, "\"" + key + "\" must be a number, not " +
                                                      json_type_name(field.value.type()) + kExample);
    }
    if (!(*target >= 0)) {  // also NaN
      return refuse(SampleProblem::invalid_value,
                    "\"" + key + "\" must be a finite number that is not negative" + kExample);
    }
    if (target != &time && *target > shm::kMaxSampleValue) {  // also infinity
      return refuse(SampleProblem::invalid_value,
                    "\"" + key + "\" must be at most " + shm::kMaxSampleValueText +
                        ", so that no sum of samples can overflow" + kExample);
    }
  }
  if (sample.has_time) {
    if (time > kLatestTime) {  // also infinity
      return refuse(SampleProblem::invalid_value,
                    "\"time\" must be unix seconds (e.g. 1767225600 or 1767225600.5), not milliseconds");
    }
    sample.time_ms = std::llround(time * 1000);
  }
  if (!sample.has_cpu && !sample.has_ram) {
    return refuse(SampleProblem::invalid_value,
                  std::string("the sample has neither \"cpu\" nor \"ram\", and needs at least one") + kExample);
  }
  return ParsedSample{.ok = true, .sample = sample, .error = {}, .problem = SampleProblem::none};
}

SampleParser::SampleParser() : parser_(http::kMaxBodyBytes) {}

simdjson::error_code SampleParser::parse_document(std::string_view body,
                                                  simdjson::dom::element& root) {
  return parser_.parse(body.data(), body.size(), false).get(root);
}

ParsedSample sample_from_document(simdjson::error_code error, simdjson::dom::element root) {
  if (error) {
    return refuse(SampleProblem::invalid_json, std::string("the body is not valid JSON (") +
                                                   simdjson::error_message(error) + ")" + kExample);
  }
  if (root.type() != simdjson::dom::element_type::OBJECT) {
    return refuse(SampleProblem::invalid_json, std::string("the body is ") +
                                                   json_type_name(root.type()) +
                                                   ", not a JSON object" + kExample);
  }
  return sample_from_json(root);
}

ParsedSample SampleParser::parse(std::string_view body) {
  simdjson::dom::element root;
  const simdjson::error_code error = parse_document(body, root);
  return sample_from_document(error, root);
}

}  // namespace servertrack::ingest
