#include "hangar/metering/answers.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/auth/tokens.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/metering/metering.hpp"

namespace hangar::metering {

namespace json = boost::json;

namespace {

std::string_view Title(int status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 409:
            return "Conflict";
        case 429:
            return "Too Many Requests";
        case 503:
            return "Service Unavailable";
        default:
            return status >= 500 ? "Internal Server Error" : "Error";
    }
}

}  // namespace

http::Response Problem(int status, std::string_view detail) {
    json::object o{
        {"type", "about:blank"},
        {"title", Title(status)},
        {"status", status},
        {"detail", core::ToValidUtf8(detail)}};
    return http::Response{
        status,
        "application/problem+json",
        {{"cache-control", "no-store"}},
        json::serialize(o),
        {}};
}

http::Response Problem(const core::Error& e) {
    return Problem(core::HttpStatus(e.code), e.message);
}

http::Response Json(int status, const json::value& v) {
    return http::Response{
        status, "application/json", {{"cache-control", "no-store"}}, json::serialize(v), {}};
}

http::Response NoContent() {
    return http::Response{204, "", {}, "", {}};
}

std::optional<std::expected<Caller, http::Response>>
Identify(MeteringDeps& deps, const http::Request& req, bool may_block) {
    std::string_view auth = req.Header("authorization");
    if (auth.empty()) {
        return std::unexpected(Problem(401, "send Authorization: Bearer <token>"));
    }
    std::string_view token = auth.substr(std::min<size_t>(auth.size(), 7));
    if (token.starts_with("hgr_")) {
        std::optional<auth::Principal> who = deps.tokens.AuthenticateCached(auth);
        if (!who) {
            if (!may_block) {
                return std::nullopt;
            }
            auto r = deps.tokens.Authenticate(auth);
            if (!r) {
                return std::unexpected(Problem(r.error()));
            }
            who = *r;
        }
        return Caller{who->IsAdmin(), who->tenant, who->Actor()};
    }
    if (!may_block) {
        return std::nullopt;
    }
    auto ws = deps.workspaces.Authenticate(auth, 0);
    if (!ws) {
        return std::unexpected(Problem(ws.error().status, ws.error().description));
    }
    return Caller{false, ws->tenant, "workspace:" + ws->workspace_id};
}

std::expected<Caller, http::Response> Identify(MeteringDeps& deps, const http::Request& req) {
    return *Identify(deps, req, /*may_block=*/true);
}

http::Handler Guarded(std::function<http::Response(http::Request&)> fn) {
    return [fn = std::move(fn)](http::Request& req) {
        try {
            return fn(req);
        } catch (const std::exception& e) {
            core::LogError(
                "metering call failed",
                {{"request_id", std::string_view(req.request_id)},
                 {"error", std::string_view(e.what())}}
            );
            return Problem(500, "");
        }
    };
}

std::vector<std::string> QueryAll(const http::Request& req, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [k, v] : req.query) {
        if (k == name) {
            out.push_back(v);
        }
    }
    return out;
}

std::optional<int64_t> QueryTime(const http::Request& req, std::string_view name) {
    auto v = req.Query(name);
    if (!v) {
        return std::nullopt;
    }
    auto t = core::ParseRfc3339(*v);
    if (!t) {
        return INT64_MIN;
    }
    return core::UnixMillis(*t);
}

// Writes a meter object (create, update or delete) as a platform admin's audited change.
store::AuditEvent
Audit(MeteringDeps& deps, const Caller& who, const http::Request& req, std::string action) {
    store::AuditEvent e =
        store::SystemAudit(core::FormatRfc3339(deps.metering.clock().Now()), who.actor, "", "");
    e.action = std::move(action);
    e.request_id = req.request_id;
    e.source = "api";
    return e;
}

}  // namespace hangar::metering
