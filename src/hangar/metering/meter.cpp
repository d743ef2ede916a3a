#include "hangar/metering/meter.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/json.hpp"

namespace hangar::metering {

namespace {

constexpr std::pair<Aggregation, std::string_view> kAggregations[] = {
    {Aggregation::kSum, "SUM"},
    {Aggregation::kCount, "COUNT"},
    {Aggregation::kUniqueCount, "UNIQUE_COUNT"},
    {Aggregation::kAvg, "AVG"},
    {Aggregation::kMin, "MIN"},
    {Aggregation::kMax, "MAX"},
    {Aggregation::kLatest, "LATEST"},
};

bool IsSlug(std::string_view s) {
    if (s.empty() || s.size() > 64 || s.front() == '_' || s.back() == '_') {
        return false;
    }
    char prev = 0;
    for (char c : s) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok || (c == '_' && prev == '_')) {
            return false;
        }
        prev = c;
    }
    return true;
}

bool IsIdentifier(std::string_view s) {
    if (s.empty() || s.size() > 64 || std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
        return false;
    }
    for (char c : s) {
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
            return false;
        }
    }
    return true;
}

const json::value* Walk(const json::object& data, const std::vector<std::string>& path) {
    const json::object* at = &data;
    const json::value* v = nullptr;
    for (size_t i = 0; i < path.size(); ++i) {
        v = at->if_contains(path[i]);
        if (v == nullptr) {
            return nullptr;
        }
        if (i + 1 < path.size()) {
            if (!v->is_object()) {
                return nullptr;
            }
            at = &v->as_object();
        }
    }
    return v;
}

}  // namespace

std::string_view AggregationName(Aggregation a) {
    for (const auto& [k, name] : kAggregations) {
        if (k == a) {
            return name;
        }
    }
    return "COUNT";
}

std::optional<Aggregation> ParseAggregation(std::string_view s) {
    for (const auto& [k, name] : kAggregations) {
        if (name == s) {
            return k;
        }
    }
    return std::nullopt;
}

std::optional<std::vector<std::string>> ParseJsonPath(std::string_view path) {
    if (path.size() < 3 || path.size() > 256 || path[0] != '$') {
        return std::nullopt;
    }
    std::vector<std::string> keys;
    size_t i = 1;
    while (i < path.size()) {
        if (path[i] == '.') {
            size_t j = i + 1;
            while (j < path.size() && path[j] != '.' && path[j] != '[') {
                ++j;
            }
            if (j == i + 1) {
                return std::nullopt;
            }
            keys.emplace_back(path.substr(i + 1, j - i - 1));
            i = j;
        } else if (path[i] == '[' && i + 1 < path.size() && (path[i + 1] == '\'' || path[i + 1] == '"')) {
            char q = path[i + 1];
            size_t end = path.find(q, i + 2);
            if (end == std::string_view::npos || end + 1 >= path.size() || path[end + 1] != ']' ||
                end == i + 2) {
                return std::nullopt;
            }
            keys.emplace_back(path.substr(i + 2, end - i - 2));
            i = end + 2;
        } else {
            return std::nullopt;
        }
    }
    if (keys.empty() || keys.size() > 16) {
        return std::nullopt;
    }
    return keys;
}

core::Result<json::object> ValidateMeterSpec(const json::object& spec) {
    core::ObjectReader r(spec, "spec");
    std::string slug = r.String("slug", true).value_or("");
    if (r.ok() && !IsSlug(slug)) {
        r.SetError(
            "spec.slug", "must be 1-64 lowercase letters, digits and single underscores inside"
        );
    }
    std::string type = r.String("event_type", true).value_or("");
    if (r.ok() && (type.empty() || type.size() > 256)) {
        r.SetError("spec.event_type", "must be a non-empty event type of at most 256 characters");
    }
    std::string agg = r.String("aggregation", true).value_or("");
    auto aggregation = ParseAggregation(agg);
    if (r.ok() && !aggregation) {
        r.SetError("spec.aggregation", "must be SUM, COUNT, UNIQUE_COUNT, AVG, MIN, MAX or LATEST");
    }
    std::string value = r.String("value_property").value_or("");
    if (r.ok() && aggregation == Aggregation::kCount && !value.empty()) {
        r.SetError("spec.value_property", "is not allowed when the aggregation is COUNT");
    }
    if (r.ok() && aggregation && aggregation != Aggregation::kCount) {
        if (value.empty()) {
            r.SetError("spec.value_property", "is required unless the aggregation is COUNT");
        } else if (!ParseJsonPath(value)) {
            r.SetError("spec.value_property", "must be a JSON path such as $.tokens");
        }
    }
    json::object group;
    if (auto g = r.StringMap("group_by")) {
        if (g->size() > 10) {
            r.SetError("spec.group_by", "holds at most 10 groups");
        }
        for (const auto& [name, path] : *g) {
            if (!r.ok()) {
                break;
            }
            if (!IsIdentifier(name) || name == "subject" || name == "customer_id") {
                r.SetError(
                    "spec.group_by." + name,
                    "must be named like an identifier (not subject or customer_id)"
                );
            } else if (!ParseJsonPath(path)) {
                r.SetError("spec.group_by." + name, "must be a JSON path such as $.model");
            } else if (path == value) {
                r.SetError("spec.group_by." + name, "must not be the value property");
            }
            group[name] = path;
        }
    }
    json::object out{
        {"slug", slug},
        {"event_type", type},
        {"aggregation", agg},
        {"value_property", value},
        {"group_by", std::move(group)},
        {"description", r.String("description").value_or("")},
        {"display_name", r.String("display_name").value_or("")}};
    if (r.ok() && core::StrAt(out, "description").size() > 1024) {
        r.SetError("spec.description", "must be at most 1024 characters");
    }
    if (r.ok() && core::StrAt(out, "display_name").size() > 256) {
        r.SetError("spec.display_name", "must be at most 256 characters");
    }
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return out;
}

std::string MeterObjectName(std::string_view slug) {
    std::string out(slug);
    for (char& c : out) {
        if (c == '_') {
            c = '-';
        }
    }
    return out;
}

MeterDef MeterFromObject(const store::Object& o) {
    MeterDef m;
    m.id = o.id;
    m.slug = core::StrAt(o.spec, "slug");
    m.event_type = core::StrAt(o.spec, "event_type");
    m.aggregation =
        ParseAggregation(core::StrAt(o.spec, "aggregation")).value_or(Aggregation::kCount);
    m.value_property = core::StrAt(o.spec, "value_property");
    m.value_path = ParseJsonPath(m.value_property).value_or(std::vector<std::string>{});
    if (const json::object* g = core::ObjectAt(o.spec, "group_by")) {
        for (const auto& [k, v] : *g) {
            if (v.is_string()) {
                m.group_by[std::string(k)] = std::string(v.as_string());
                m.group_paths[std::string(k)] =
                    ParseJsonPath(v.as_string()).value_or(std::vector<std::string>{});
            }
        }
    }
    m.generation = o.generation;
    m.created_at = o.created_at;
    m.updated_at = o.updated_at;
    m.description = core::StrAt(o.spec, "description");
    m.name = core::StrAt(o.spec, "display_name");
    return m;
}

json::object MeterToJson(const MeterDef& m) {
    json::object o{
        {"id", m.id},
        {"slug", m.slug},
        {"name", m.name.empty() ? m.slug : m.name},
        {"aggregation", AggregationName(m.aggregation)},
        {"eventType", m.event_type},
        {"createdAt", m.created_at},
        {"updatedAt", m.updated_at}};
    if (!m.description.empty()) {
        o["description"] = m.description;
    }
    if (!m.value_property.empty()) {
        o["valueProperty"] = m.value_property;
    }
    if (!m.group_by.empty()) {
        json::object g;
        for (const auto& [k, v] : m.group_by) {
            g[k] = v;
        }
        o["groupBy"] = std::move(g);
    }
    return o;
}

core::Result<json::object> SpecFromMeterCreate(const json::object& body) {
    core::ObjectReader r(body, "");
    json::object spec;
    auto copy = [&](std::string_view from, std::string_view to) {
        if (const json::value* v = r.Any(from)) {
            spec[to] = *v;
        }
    };
    copy("slug", "slug");
    copy("eventType", "event_type");
    copy("aggregation", "aggregation");
    copy("valueProperty", "value_property");
    copy("groupBy", "group_by");
    copy("description", "description");
    copy("name", "display_name");
    (void)r.Any("metadata");
    (void)r.Any("eventFrom");
    if (auto f = r.Finish(); !f) {
        return core::Fail(f.error());
    }
    return spec;
}

std::optional<double> ValueAt(const json::object& data, const std::vector<std::string>& path) {
    const json::value* v = Walk(data, path);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_number()) {
        double d = v->to_number<double>();
        return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
    }
    if (v->is_string()) {
        std::string_view s = v->as_string();
        double d = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec == std::errc() && p == s.data() + s.size() && std::isfinite(d)) {
            return d;
        }
    }
    return std::nullopt;
}

std::optional<std::string> TextAt(const json::object& data, const std::vector<std::string>& path) {
    const json::value* v = Walk(data, path);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return std::string(v->as_string());
    }
    if (v->is_object() || v->is_array()) {
        return std::nullopt;
    }
    return json::serialize(*v);
}

}  // namespace hangar::metering
