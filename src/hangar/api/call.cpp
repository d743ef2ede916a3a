#include "hangar/api/call.hpp"

#include <charconv>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"

namespace hangar::api {

using core::ErrorCode;
using core::Fail;

http::Response JsonResponse(int status, const json::value& body) {
    return http::Response{status, "application/json", {}, json::serialize(body), {}};
}

http::Response RawJsonResponse(int status, std::string body) {
    return http::Response{status, "application/json", {}, std::move(body), {}};
}

http::Response ErrorResponse(const core::Error& e) {
    http::Response r = JsonResponse(core::HttpStatus(e.code), core::ErrorToJson(e));
    if (e.code == ErrorCode::kUnauthenticated) {
        r.headers.emplace_back("www-authenticate", "Bearer realm=\"hangar\"");
    } else if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTooManyRequests) {
        std::string after = "1";
        for (const auto& [k, v] : e.details) {
            if (k == "retry_after") {
                after = v;
            }
        }
        r.headers.emplace_back("retry-after", after);
    }
    return r;
}

core::Error NotFound(std::string_view what, std::string_view id) {
    return core::MakeError(ErrorCode::kNotFound, fmt::format("{} {} not found", what, id));
}

core::Error Forbidden(std::string message) {
    return core::MakeError(ErrorCode::kForbidden, std::move(message));
}

Result<void> RequireRole(const auth::Principal& who, auth::Role role, std::string_view what) {
    if (!who.AtLeast(role)) {
        return Fail(Forbidden(fmt::format(
            "{} needs the {} role or higher; this token is {}",
            what,
            auth::RoleName(role),
            auth::RoleName(who.role)
        )));
    }
    return {};
}

Result<std::string> TenantOf(const Call& c) {
    if (!c.who.IsAdmin()) {
        return c.who.tenant;
    }
    std::string tenant(c.req.Query("tenant").value_or(""));
    if (tenant.empty()) {
        return Fail(
            core::FieldError("tenant", "a platform token must name the tenant: ?tenant=<id>")
        );
    }
    return tenant;
}

std::string ActorName(Deps& deps, const auth::Principal& who) {
    if (!who.user_id.empty()) {
        if (auto u = deps.store.Get(who.user_id)) {
            return u->name;
        }
    }
    return who.Actor();
}

Result<json::object> BodyObject(const http::Request& req) {
    std::string_view ct = req.Header("content-type");
    if (!ct.empty() && !ct.starts_with("application/json")) {
        return Fail(
            ErrorCode::kUnsupportedMediaType,
            fmt::format("Content-Type must be application/json, not \"{}\"", ct)
        );
    }
    if (req.body.empty()) {
        return Fail(ErrorCode::kInvalidArgument, "request body is empty; send a JSON object");
    }
    return core::ParseJsonObject(req.body);
}

Result<std::optional<int64_t>>
QueryInt(const http::Request& req, std::string_view name, int64_t min, int64_t max) {
    auto v = req.Query(name);
    if (!v) {
        return std::optional<int64_t>();
    }
    int64_t n = 0;
    auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (r.ec != std::errc() || r.ptr != v->data() + v->size() || n < min || n > max) {
        core::Error e = core::MakeError(
            ErrorCode::kInvalidArgument,
            fmt::format("query parameter {} must be an integer from {} to {}", name, min, max)
        );
        e.With("field", std::string(name));
        return Fail(std::move(e));
    }
    return std::optional<int64_t>(n);
}

Result<void> KnownQuery(const http::Request& req, std::initializer_list<std::string_view> names) {
    for (const auto& [k, v] : req.query) {
        if (std::find(names.begin(), names.end(), k) == names.end()) {
            core::Error e = core::MakeError(
                ErrorCode::kInvalidArgument, fmt::format("unknown query parameter \"{}\"", k)
            );
            e.With("field", k);
            return Fail(std::move(e));
        }
    }
    return {};
}

Result<void> CheckRate(Deps& deps, const auth::Principal& who) {
    std::chrono::seconds retry{1};
    if (deps.limiter == nullptr || who.IsAdmin() || deps.limiter->Allow(who.tenant, retry)) {
        return {};
    }
    core::Error e = core::MakeError(
        ErrorCode::kTooManyRequests,
        fmt::format("tenant {} is over its request rate; retry in {} s", who.tenant, retry.count())
    );
    e.With("retry_after", std::to_string(retry.count()));
    return Fail(std::move(e));
}

http::Handler Wrap(Deps& deps, std::string action, ApiHandler h, Access access) {
    return [&deps, action = std::move(action), h = std::move(h), access](http::Request& req) {
        std::string now = core::FormatRfc3339(deps.clock.Now());
        Call call{req, {}, {}, false, now};
        call.audit.time = now;
        call.audit.action = action;
        call.audit.request_id = req.request_id;
        call.audit.source = req.remote;
        call.audit.actor = "anonymous";
        Result<http::Response> result = Fail(ErrorCode::kInternal, "unreachable");
        if (access == Access::kAuthenticated) {
            auto who = deps.tokens.Authenticate(req.Header("authorization"));
            if (!who) {
                result = Fail(who.error());
            } else {
                call.who = *who;
                call.audit.actor = who->Actor();
                call.audit.tenant = who->tenant;
                if (auto rate = CheckRate(deps, *who); !rate) {
                    result = Fail(rate.error());
                    call.who.token_id.clear();  // the handler does not run
                }
            }
        }
        if (access == Access::kPublic || call.who.token_id.size() > 0) {
            try {
                result = h(call);
            } catch (const std::exception& e) {
                core::LogError(
                    "handler failed",
                    {{"request_id", std::string_view(req.request_id)},
                     {"error", std::string_view(e.what())}}
                );
                result = Fail(
                    ErrorCode::kInternal, "internal error; see the server log with the request id"
                );
            }
        }
        if (!action.empty() && !call.audited) {
            call.audit.outcome =
                result ? "success" : std::string(core::CodeString(result.error().code));
            if (auto a = deps.store.AppendAudit(call.audit); !a) {
                core::LogError(
                    "audit append failed",
                    {{"request_id", std::string_view(req.request_id)},
                     {"error", std::string_view(a.error().message)}}
                );
            }
        }
        if (!result) {
            return ErrorResponse(result.error());
        }
        return std::move(*result);
    };
}

}  // namespace hangar::api
