#pragma once
// Meters: which events count and how (OpenMeter's model). A meter takes the events of one type,
// reads a number at `value_property` in their data (a JSON path such as "$.tokens"; none for
// COUNT), and aggregates it per subject and per the values at its `group_by` paths.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "hangar/core/error.hpp"
#include "hangar/store/types.hpp"

namespace hangar::metering {

namespace json = boost::json;

enum class Aggregation { kSum, kCount, kUniqueCount, kAvg, kMin, kMax, kLatest };

std::string_view AggregationName(Aggregation a);
std::optional<Aggregation> ParseAggregation(std::string_view s);

// "$.a.b" or "$.a['b c']" as its keys; nullopt when it is not such a path.
std::optional<std::vector<std::string>> ParseJsonPath(std::string_view path);

struct MeterDef {
    std::string id;    // the Meter object's id
    std::string slug;  // ^[a-z0-9]+(_[a-z0-9]+)*$
    std::string event_type;
    Aggregation aggregation = Aggregation::kCount;
    std::string value_property;  // "" for COUNT
    std::vector<std::string> value_path;
    std::map<std::string, std::string> group_by;  // name -> path
    std::map<std::string, std::vector<std::string>> group_paths;
    int64_t generation = 0;  // a change of definition recomputes the meter's usage
    std::string created_at, updated_at, description, name;
};

// The Meter kind's spec: {slug, event_type, aggregation, value_property?, group_by?,
// description?, display_name?}, with OpenMeter's rules (a COUNT meter has no value property;
// every other one has; paths start with "$"; group names are identifiers).
core::Result<json::object> ValidateMeterSpec(const json::object& spec);
// A Meter object's name: its slug with '_' as '-' (object names are DNS labels).
std::string MeterObjectName(std::string_view slug);
MeterDef MeterFromObject(const store::Object& o);
// OpenMeter's Meter: {id, slug, name, description, aggregation, eventType, valueProperty?,
// groupBy?, createdAt, updatedAt}.
json::object MeterToJson(const MeterDef& m);
// OpenMeter's MeterCreate body as the Meter kind's spec.
core::Result<json::object> SpecFromMeterCreate(const json::object& body);

// The number at `path` in `data`: a number, or a string holding one (OpenMeter reads both).
std::optional<double> ValueAt(const json::object& data, const std::vector<std::string>& path);
// The text at `path` (a string as it is; a number or bool as its JSON), or nullopt.
std::optional<std::string> TextAt(const json::object& data, const std::vector<std::string>& path);

}  // namespace hangar::metering
