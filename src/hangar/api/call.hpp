#pragma once
// One API call after authentication: the request, who made it, and the audit event that will
// record it. Wrap() turns an ApiHandler into an http::Handler: it authenticates, checks the
// content type, maps errors to their status and JSON body, and makes sure every mutating
// request leaves exactly one audit event (the store writes it with the change when there is one).

#include <chrono>
#include <functional>
#include <string>

#include <boost/json/object.hpp>

#include "hangar/auth/principal.hpp"
#include "hangar/auth/tokens.hpp"
#include "hangar/core/clock.hpp"
#include "hangar/core/error.hpp"
#include "hangar/core/rate_limit.hpp"
#include "hangar/http/message.hpp"
#include "hangar/http/router.hpp"
#include "hangar/store/store.hpp"

namespace hangar::api {

namespace json = boost::json;
using core::Result;

struct Call {
    http::Request& req;
    auth::Principal who;
    store::AuditEvent audit;  // time, actor, tenant, action, request id, source prefilled
    bool audited = false;     // set once the store has recorded the audit event
    std::string now;          // RFC 3339, stamped once per call
};

using ApiHandler = std::function<Result<http::Response>(Call&)>;

// What every handler may use: the store, the caller's token, the clock and the per-tenant request
// rate. A route group's own services come as its Add...Routes arguments (routes.hpp).
struct Deps {
    store::Store& store;
    auth::TokenService& tokens;
    const core::Clock& clock;
    core::RateLimiter* limiter = nullptr;  // per-tenant request rate; null: unlimited
};

// 429 when the caller's tenant is over its request rate (platform admins are exempt).
Result<void> CheckRate(Deps& deps, const auth::Principal& who);

enum class Access { kPublic, kAuthenticated };

// `action` non-empty marks a mutating route ("tenant.create"); it is audited.
http::Handler
Wrap(Deps& deps, std::string action, ApiHandler h, Access access = Access::kAuthenticated);

http::Response JsonResponse(int status, const json::value& body);
http::Response RawJsonResponse(int status, std::string body);
http::Response ErrorResponse(const core::Error& e);

// Helpers for handlers.
Result<json::object> BodyObject(const http::Request& req);
core::Error NotFound(std::string_view what, std::string_view id);
core::Error Forbidden(std::string message);
Result<void> RequireRole(const auth::Principal& who, auth::Role role, std::string_view what);
// The tenant a read is about: the caller's, or for platform admins the one named by ?tenant=.
Result<std::string> TenantOf(const Call& c);
// Who did it, for histories and timelines: the token's user's name, else "token:<id>".
std::string ActorName(Deps& deps, const auth::Principal& who);
// An integer query parameter within [min, max].
Result<std::optional<int64_t>>
QueryInt(const http::Request& req, std::string_view name, int64_t min, int64_t max);
// Rejects query parameters a route does not know.
Result<void> KnownQuery(const http::Request& req, std::initializer_list<std::string_view> names);

}  // namespace hangar::api
