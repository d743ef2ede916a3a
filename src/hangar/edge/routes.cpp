#include "hangar/edge/routes.hpp"

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/auth/tokens.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/strings.hpp"
#include "hangar/edge/collector.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/workspaces.hpp"

namespace hangar::edge {

namespace {

http::Response Json(int status, const json::object& body) {
    return http::Response{
        status, "application/json", {{"cache-control", "no-store"}}, json::serialize(body), {}};
}

http::Response Error(const EdgeError& e) {
    json::object body{{"error", e.error}};
    if (!e.description.empty()) {
        body["error_description"] = e.description;
    }
    http::Response r = Json(e.status, body);
    if (e.status == 401) {
        r.headers.emplace_back("www-authenticate", fmt::format("Bearer error=\"{}\"", e.error));
    } else if (e.status == 429 || e.status == 503) {
        r.headers.emplace_back("retry-after", "1");
    }
    return r;
}

http::Response Answer(const EdgeResult<json::object>& r, int ok_status = 200) {
    return r ? Json(ok_status, *r) : Error(r.error());
}

// "127.0.0.1:5342" → "127.0.0.1"; "[::1]:5342" → "::1".
std::string AddressOf(const std::string& remote) {
    if (remote.starts_with('[')) {
        return remote.substr(1, remote.find(']') - 1);
    }
    return remote.substr(0, remote.rfind(':'));
}

// nullopt when the caller may go on; else the 429 to answer.
std::optional<http::Response> OverPublicRate(EdgeDeps& deps, const http::Request& req) {
    std::chrono::seconds retry{1};
    if (deps.public_limiter == nullptr ||
        deps.public_limiter->Allow(AddressOf(req.remote), retry)) {
        return std::nullopt;
    }
    http::Response r = Error(EdgeError{
        429,
        "slow_down",
        fmt::format("too many requests from this address; retry in {} s", retry.count())});
    for (auto& [k, v] : r.headers) {
        if (k == "retry-after") {
            v = std::to_string(retry.count());
        }
    }
    return r;
}

http::Handler Guarded(std::function<http::Response(http::Request&)> fn) {
    return [fn = std::move(fn)](http::Request& req) {
        try {
            return fn(req);
        } catch (const std::exception& e) {
            core::LogError(
                "workspace cloud call failed",
                {{"request_id", std::string_view(req.request_id)},
                 {"error", std::string_view(e.what())}}
            );
            return Error(EdgeError{
                500,
                "server_error",
                "internal error; the server log has the request id " + req.request_id});
        }
    };
}

http::Response Collect(EdgeDeps& deps, http::Request& req) {
    if (req.Header("authorization").empty()) {
        if (auto limited = OverPublicRate(deps, req)) {
            return *limited;
        }
        return Answer(deps.collector.Receive(nullptr, req.body));
    }
    auto who = deps.workspaces.Authenticate(req.Header("authorization"), kStatsWrite);
    if (!who) {
        return Error(who.error());
    }
    return Answer(deps.collector.Receive(&*who, req.body));
}

// On the I/O thread when the caller's token can be checked from memory: the report is written
// without holding a worker, and the answer comes back when it is durable.
bool CollectAsync(EdgeDeps& deps, http::Request& req, std::function<void(http::Response)> done) {
    std::optional<WorkspaceAuth> who;
    if (req.Header("authorization").empty()) {
        if (auto limited = OverPublicRate(deps, req)) {
            done(std::move(*limited));
            return true;
        }
    } else {
        auto auth = deps.workspaces.Authenticate(
            req.Header("authorization"), kStatsWrite, /*may_block=*/false
        );
        if (!auth && auth.error().status == 0) {
            return false;  // not in memory: the worker pool checks it
        }
        if (!auth) {
            done(Error(auth.error()));
            return true;
        }
        who = std::move(*auth);
    }
    deps.collector.ReceiveAsync(
        who ? &*who : nullptr,
        req.body,
        [done = std::move(done)](EdgeResult<json::object> r) { done(Answer(r)); }
    );
    return true;
}

// An OAuth call's fields: the query string's, then the form body's (a stock server sends the
// authorization-code, refresh and revoke calls with their fields in the query string).
EdgeResult<OAuthForm> OAuthFields(const http::Request& req) {
    if (req.body.size() > 8192) {
        return EdgeFail(413, "invalid_request", "an OAuth request is limited to 8192 bytes");
    }
    OAuthForm form(req.query.begin(), req.query.end());
    if (!req.body.empty()) {
        std::string_view ct = req.Header("content-type");
        if (!ct.starts_with("application/x-www-form-urlencoded")) {
            return EdgeFail(
                400,
                "invalid_request",
                "send the fields form-encoded (Content-Type: application/x-www-form-urlencoded)"
            );
        }
        auto body = core::ParseForm(req.body);
        if (!body) {
            return EdgeFail(
                400, "invalid_request", "the body is not valid form encoding (a malformed % escape)"
            );
        }
        form.insert(form.end(), body->begin(), body->end());
    }
    return form;
}

// The consent page's answer: HTML that no other site may frame, or the redirect.
http::Response Consent(const UserAuthorizeAnswer& a) {
    http::Response r{
        a.status,
        "text/html; charset=utf-8",
        {{"cache-control", "no-store"},
         {"x-frame-options", "DENY"},
         {"referrer-policy", "no-referrer"},
         {"content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"}},
        a.html,
        {}};
    if (a.status == 303) {
        r.headers.emplace_back("location", a.location);
    }
    return r;
}

void AddCollectRoute(http::Router& router, EdgeDeps& deps, std::string pattern) {
    router.AddAsync(
        "POST",
        std::move(pattern),
        Guarded([&deps](http::Request& req) { return Collect(deps, req); }),
        [&deps](http::Request& req, std::function<void(http::Response)> done) {
            return CollectAsync(deps, req, std::move(done));
        }
    );
}

}  // namespace

void AddWorkspaceCloudRoutes(http::Router& router, EdgeDeps& deps) {
    // A route for a workspace holding `scope` (0: any valid token).
    auto with_token = [&deps](uint32_t scope, auto fn) {
        return Guarded([&deps, scope, fn](http::Request& req) {
            auto who = deps.workspaces.Authenticate(req.Header("authorization"), scope);
            if (!who) {
                return Error(who.error());
            }
            return Answer(fn(*who, req));
        });
    };
    router.Add(
        "POST", "/api/oauth/clients", Guarded([&deps](http::Request& req) {
            if (auto limited = OverPublicRate(deps, req)) {
                return *limited;
            }
            return Answer(
                deps.workspaces.RegisterClient(req.Header("authorization"), req.body, req.remote),
                201
            );
        })
    );
    router.Add("POST", "/api/oauth/token", Guarded([&deps](http::Request& req) {
                   std::string_view ct = req.Header("content-type");
                   if (!ct.starts_with("application/x-www-form-urlencoded")) {
                       return Error(EdgeError{
                           400,
                           "invalid_request",
                           "send the fields form-encoded (Content-Type: "
                           "application/x-www-form-urlencoded)"});
                   }
                   auto form = OAuthFields(req);
                   if (!form) {
                       return Error(form.error());
                   }
                   return Answer(deps.workspaces.Token(*form));
               }));
    router.Add("POST", "/api/oauth/revoke", Guarded([&deps](http::Request& req) {
                   auto form = OAuthFields(req);
                   if (!form) {
                       return Error(form.error());
                   }
                   return Answer(deps.workspaces.Revoke(*form));
               }));
    router.Add("GET", "/api/oauth/userinfo", Guarded([&deps](http::Request& req) {
                   return Answer(deps.workspaces.UserInfo(req.Header("authorization")));
               }));
    // The consent page of "connect my account", and the user's decision.
    router.Add("GET", "/authorize", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   return Consent(deps.workspaces.AuthorizePage(req.query));
               }));
    router.Add("POST", "/authorize", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   auto form = OAuthFields(req);
                   if (!form) {
                       return Consent(UserAuthorizeAnswer{
                           400, "<p>" + form.error().description + "</p>", {}});
                   }
                   std::optional<auth::Principal> who;
                   if (auto token = FormField(*form, "token");
                       token && !token->empty() && deps.tokens != nullptr) {
                       if (auto p = deps.tokens->Authenticate("Bearer " + *token)) {
                           who = std::move(*p);
                       }
                   }
                   return Consent(deps.workspaces.AuthorizeDecision(*form, who));
               }));
    router.Add("POST", "/api/v2/register/workspace/intent", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   return Answer(deps.workspaces.Intent(req.body));
               }));
    router.Add("POST", "/api/v2/register/workspace", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   return Answer(deps.workspaces.LegacyStart(req.body));
               }));
    router.Add(
        "POST", "/api/v2/register/workspace/pre-intent", Guarded([&deps](http::Request& req) {
            if (auto limited = OverPublicRate(deps, req)) {
                return *limited;
            }
            return Answer(deps.workspaces.PreIntent(req.body));
        })
    );
    router.Add(
        "POST",
        "/api/v2/checkout",
        with_token(
            kWorkspaceBilling,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.Checkout(who, req.body);
            }
        )
    );
    router.Add("GET", "/checkout/{id}", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   return Consent(deps.workspaces.CheckoutPage(req.Param("id"), req.query));
               }));
    router.Add("GET", "/api/v2/register/workspace/poll", Guarded([&deps](http::Request& req) {
                   if (auto limited = OverPublicRate(deps, req)) {
                       return *limited;
                   }
                   auto token = req.Query("token");
                   if (!token || token->empty()) {
                       return Error(EdgeError{
                           400,
                           "invalid_request",
                           "the query parameter token (the device_code) is required"});
                   }
                   return Answer(deps.workspaces.Poll(*token));
               }));
    router.Add("POST", "/api/v2/workspaces/{id}/sync", Guarded([&deps](http::Request& req) {
                   auto who =
                       deps.workspaces.Authenticate(req.Header("authorization"), kLicenseRead);
                   if (!who) {
                       return Error(who.error());
                   }
                   return Answer(deps.workspaces.Sync(*who, req.Param("id"), req.body));
               }));
    // Comms (before each sync) and the legacy sync a stock server falls back to.
    router.Add(
        "POST",
        "/api/v3/comms/workspace",
        with_token(
            kLicenseRead,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.Comms(who, req.body);
            }
        )
    );
    router.Add(
        "POST",
        "/api/v3/comms/workspace/interaction",
        with_token(
            0,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.Interact(who, req.body);
            }
        )
    );
    router.Add(
        "POST",
        "/api/v2/workspaces/{id}/client",
        with_token(
            kClientWrite,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.LegacyClient(who, req.Param("id"), req.body);
            }
        )
    );
    router.Add(
        "GET",
        "/api/v2/workspaces/{id}/license",
        with_token(
            kLicenseRead,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.LegacyLicense(
                    who, req.Param("id"), req.Query("version").value_or("")
                );
            }
        )
    );
    router.Add(
        "POST",
        "/api/v2/workspaces/{id}/client/downgrade",
        with_token(
            kClientWrite,
            [&deps](const WorkspaceAuth& who, http::Request& req) {
                return deps.workspaces.Downgrade(who, req.Param("id"));
            }
        )
    );
    AddCollectRoute(router, deps, "/collector");
    if (deps.push != nullptr) {
        auto respond = [](const PushAnswer& a) {
            http::Response r = Json(a.status, a.body);
            if (a.retry_after > 0) {
                r.headers.emplace_back("retry-after", std::to_string(a.retry_after));
            }
            return r;
        };
        // On the I/O thread when everything it needs is in memory (the common case): the
        // notification goes to the provider connection and the answer comes back when it does.
        router.AddAsync(
            "POST",
            "/push/{service}/send",
            Guarded([&deps, respond](http::Request& req) {
                return respond(deps.push->Send(
                    req.Param("service"), req.Header("authorization"), req.body, req.request_id
                ));
            }),
            [&deps, respond](http::Request& req, std::function<void(http::Response)> done) {
                std::string rid = req.request_id;
                return deps.push->SendAsync(
                    req.Param("service"),
                    req.Header("authorization"),
                    req.body,
                    rid,
                    [done = std::move(done), respond](const PushAnswer& a) { done(respond(a)); }
                );
            }
        );
    }
}

void AddCollectorRootRoute(http::Router& router, EdgeDeps& deps) {
    AddCollectRoute(router, deps, "/");
}

}  // namespace hangar::edge
