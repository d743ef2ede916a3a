#pragma once
// What the metering routes share: OpenMeter's problem answers, who calls (an API token or a
// workspace's), the guard that turns a throw into a 500, and query-string readers.

#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "hangar/core/error.hpp"
#include "hangar/http/router.hpp"
#include "hangar/metering/routes.hpp"
#include "hangar/store/types.hpp"

namespace hangar::metering {

// OpenMeter's StatusProblem ({type, title, status, detail}) as application/problem+json: its
// clients read an error only under exactly that content type.
http::Response Problem(int status, std::string_view detail);
http::Response Problem(const core::Error& e);
http::Response Json(int status, const boost::json::value& v);
http::Response NoContent();

struct Caller {
    bool admin = false;
    std::string tenant;  // the subject a tenant's caller may report and read
    std::string actor;
};
// Who calls: nullopt from the non-blocking path when it would have to read the store.
std::optional<std::expected<Caller, http::Response>>
Identify(MeteringDeps& deps, const http::Request& req, bool may_block);
// The same, blocking.
std::expected<Caller, http::Response> Identify(MeteringDeps& deps, const http::Request& req);

http::Handler Guarded(std::function<http::Response(http::Request&)> fn);
std::vector<std::string> QueryAll(const http::Request& req, std::string_view name);
// An RFC 3339 query parameter in unix milliseconds; nullopt when absent, INT64_MIN when bad.
std::optional<int64_t> QueryTime(const http::Request& req, std::string_view name);
// A platform admin's audited change, stamped now.
store::AuditEvent
Audit(MeteringDeps& deps, const Caller& who, const http::Request& req, std::string action);

}  // namespace hangar::metering
