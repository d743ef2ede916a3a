#include "hangar/metering/events.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"

namespace hangar::metering {

namespace {

core::Error Bad(const std::string& where, std::string_view message) {
    return core::FieldError(where, std::string(message));
}

core::Result<UsageEvent> ReadEvent(const json::value& v, const std::string& where, int64_t now_ms) {
    if (!v.is_object()) {
        return core::Fail(Bad(where, "must be a CloudEvent (a JSON object)"));
    }
    const json::object& o = v.as_object();
    UsageEvent e;
    auto text = [&](std::string_view key, std::string& out, size_t max) -> core::Result<void> {
        const json::value* f = o.if_contains(key);
        if (f == nullptr || !f->is_string() || f->as_string().empty() ||
            f->as_string().size() > max) {
            return core::Fail(
                Bad(fmt::format("{}.{}", where, key),
                    fmt::format("must be a non-empty string of at most {} characters", max))
            );
        }
        out = std::string(f->as_string());
        return {};
    };
    std::string specversion;
    for (auto r :
         {text("id", e.id, 256),
          text("source", e.source, 256),
          text("specversion", specversion, 16),
          text("type", e.type, 256),
          text("subject", e.subject, 256)}) {
        if (!r) {
            return core::Fail(r.error());
        }
    }
    if (specversion != "1.0") {
        return core::Fail(Bad(where + ".specversion", "must be \"1.0\""));
    }
    e.time_ms = now_ms;
    if (const json::value* t = o.if_contains("time"); t != nullptr && !t->is_null()) {
        std::optional<core::TimePoint> at;
        if (t->is_string()) {
            at = core::ParseRfc3339(t->as_string());
        }
        if (!at) {
            return core::Fail(Bad(where + ".time", "must be an RFC 3339 time"));
        }
        e.time_ms = core::UnixMillis(*at);
        // Years 1970-9999: the windows arithmetic and every client agree on those.
        if (e.time_ms < 0 || e.time_ms >= 253402300800000) {
            return core::Fail(Bad(where + ".time", "must be between 1970 and 9999"));
        }
    }
    if (const json::value* d = o.if_contains("data"); d != nullptr && !d->is_null()) {
        if (!d->is_object()) {
            return core::Fail(Bad(where + ".data", "must be a JSON object"));
        }
        if (auto bad = core::FindNonFinite(d->as_object())) {
            return core::Fail(Bad(where + ".data" + *bad, "must be a finite number"));
        }
        e.data = d->as_object();
        e.data_json = json::serialize(e.data);
        if (e.data_json.size() > kMaxDataBytes) {
            return core::Fail(Bad(where + ".data", "must be at most 64 KiB"));
        }
    }
    if (const json::value* c = o.if_contains("datacontenttype"); c != nullptr && !c->is_null()) {
        if (!c->is_string() || c->as_string() != "application/json") {
            return core::Fail(Bad(where + ".datacontenttype", "must be application/json"));
        }
    }
    for (const auto& [key, value] : o) {
        (void)value;
        if (key != "id" && key != "source" && key != "specversion" && key != "type" &&
            key != "subject" && key != "time" && key != "data" && key != "datacontenttype" &&
            key != "dataschema") {
            // CloudEvents extension attributes: allowed, not kept.
            if (key.size() > 64) {
                return core::Fail(Bad(where, "an attribute name is longer than 64 characters"));
            }
        }
    }
    return e;
}

}  // namespace

core::Result<std::vector<UsageEvent>>
ReadCloudEvents(std::string_view content_type, std::string_view body, int64_t now_ms) {
    bool single = content_type == "application/cloudevents+json";
    bool batch = content_type == "application/cloudevents-batch+json";
    bool either = content_type == "application/json";
    if (!single && !batch && !either) {
        return core::Fail(core::MakeError(
            core::ErrorCode::kInvalidArgument,
            fmt::format(
                "invalid content type: {} (send application/cloudevents+json, "
                "application/cloudevents-batch+json or application/json)",
                content_type.substr(0, 100)
            )
        ));
    }
    core::JsonLimits limits;
    limits.max_depth = 32;
    limits.max_elements = 4'000'000;
    limits.max_string = kMaxDataBytes;
    auto doc = core::ParseJson(body, limits);
    if (!doc) {
        return core::Fail(doc.error());
    }
    std::vector<UsageEvent> out;
    if (doc->is_array() && !single) {
        const json::array& a = doc->as_array();
        if (a.empty()) {
            return core::Fail(Bad("events", "holds no event"));
        }
        if (a.size() > kMaxBatch) {
            return core::Fail(Bad("events", fmt::format("holds at most {} events", kMaxBatch)));
        }
        out.reserve(a.size());
        for (size_t i = 0; i < a.size(); ++i) {
            auto e = ReadEvent(a[i], fmt::format("events[{}]", i), now_ms);
            if (!e) {
                return core::Fail(e.error());
            }
            out.push_back(std::move(*e));
        }
        return out;
    }
    if (batch) {
        return core::Fail(Bad("events", "must be a JSON array of CloudEvents"));
    }
    auto e = ReadEvent(*doc, "event", now_ms);
    if (!e) {
        return core::Fail(e.error());
    }
    out.push_back(std::move(*e));
    return out;
}

json::object EventToJson(const UsageEvent& e) {
    json::object o{
        {"id", e.id},
        {"source", e.source},
        {"specversion", "1.0"},
        {"type", e.type},
        {"subject", e.subject},
        {"time", core::FormatRfc3339(core::TimePoint(std::chrono::milliseconds(e.time_ms)))}};
    if (!e.data_json.empty()) {
        o["data"] = e.data;
    }
    return o;
}

}  // namespace hangar::metering
