#pragma once
// Usage events: CloudEvents 1.0 as OpenMeter takes them (POST /api/v1/events), read strictly.
// `application/cloudevents+json` is one event, `application/cloudevents-batch+json` an array,
// `application/json` either. Required: id, source, specversion, type, subject; `time` (RFC 3339)
// defaults to the moment of ingestion; `data` is a JSON object or absent.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"

namespace hangar::metering {

namespace json = boost::json;

struct UsageEvent {
    std::string id, source, type, subject;
    int64_t time_ms = 0;    // event time, UTC milliseconds
    json::object data;      // {} when absent
    std::string data_json;  // `data` serialized as stored ("" when absent)
};

// At most this many events in one request (a batch of 100 is the usual size).
inline constexpr size_t kMaxBatch = 10000;
// The largest `data` of one event, serialized.
inline constexpr size_t kMaxDataBytes = size_t{64} * 1024;

// The events of a request body. Content types are matched exactly, as OpenMeter does (a
// charset parameter is refused). An error names the event's index and field
// ("events[3].subject: must be a non-empty string"); then nothing of the batch is taken.
core::Result<std::vector<UsageEvent>>
ReadCloudEvents(std::string_view content_type, std::string_view body, int64_t now_ms);

// One event as OpenMeter's Event (for GET /api/v1/events).
json::object EventToJson(const UsageEvent& e);

}  // namespace hangar::metering
