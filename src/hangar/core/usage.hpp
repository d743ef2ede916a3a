#pragma once
// Where usage happens (a push sent, a report stored, an app downloaded), it is reported here;
// the metering module turns each report into a usage event. Modules hold a UsageSink& and never
// know about metering; without metering the sink drops reports.

#include <string_view>

#include <boost/json/object.hpp>

namespace hangar::core {

class UsageSink {
public:
    virtual ~UsageSink() = default;
    // `type` such as "hangar.push.sent"; `subject` the tenant it is billed to; `id` unique for
    // the usage (a retry of the same usage reports the same id), or empty for a fresh one.
    virtual void Record(
        std::string_view type,
        std::string_view subject,
        boost::json::object data,
        std::string_view id = {}
    ) = 0;
};

class NullUsageSink final : public UsageSink {
public:
    void Record(std::string_view, std::string_view, boost::json::object, std::string_view)
        override {}
};

}  // namespace hangar::core
