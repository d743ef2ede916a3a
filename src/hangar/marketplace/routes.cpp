#include "hangar/marketplace/routes.hpp"

#include <charconv>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/strings.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/marketplace/catalogue.hpp"
#include "hangar/marketplace/requests.hpp"

namespace hangar::marketplace {

namespace {

http::Response Json(int status, const json::value& body) {
    return http::Response{
        status, "application/json", {{"cache-control", "no-store"}}, json::serialize(body), {}};
}

http::Response Error(const MarketError& e) {
    return Json(e.status, e.body);
}

template <typename T>
http::Response Answer(const MarketResult<T>& r) {
    return r ? Json(200, *r) : Error(r.error());
}

http::Handler Guarded(std::function<http::Response(http::Request&)> fn) {
    return [fn = std::move(fn)](http::Request& req) {
        try {
            return fn(req);
        } catch (const std::exception& e) {
            core::LogError(
                "marketplace call failed",
                {{"request_id", std::string_view(req.request_id)},
                 {"error", std::string_view(e.what())}}
            );
            return Json(500, json::object{{"code", 266}, {"errorMsg", "internal error"}});
        }
    };
}

http::Response Failed(const core::Error& e) {
    int status = core::HttpStatus(e.code);
    return Json(status, json::object{{"code", status}, {"errorMsg", e.message}});
}

// The workspace a Bearer token belongs to, or the error answer.
std::expected<edge::WorkspaceAuth, http::Response>
Caller(edge::Workspaces& workspaces, const http::Request& req, uint32_t scope) {
    auto who = workspaces.Authenticate(req.Header("authorization"), scope);
    if (!who) {
        return std::unexpected(Json(
            who.error().status,
            json::object{{"code", who.error().status}, {"errorMsg", who.error().description}}
        ));
    }
    return *who;
}

// The tenant a caller's Bearer token belongs to: "" when it sends none (public apps only), an
// error answer when it sends a bad one.
std::expected<std::string, http::Response>
CallerTenant(edge::Workspaces& workspaces, const http::Request& req, uint32_t scope) {
    std::string_view auth = req.Header("authorization");
    if (auth.empty() || auth == "Bearer" || auth == "Bearer ") {
        return std::string();
    }
    auto who = workspaces.Authenticate(auth, scope);
    if (!who) {
        return std::unexpected(Json(
            who.error().status,
            json::object{{"code", who.error().status}, {"errorMsg", who.error().description}}
        ));
    }
    return who->tenant;
}

// Download tokens work once: a stock server fetches a fresh one for each download.
class UsedTokens {
public:
    bool Use(const std::string& token, int64_t now_unix) {
        std::string key = core::Sha256Hex(token);
        std::lock_guard lock(mu_);
        if (used_.size() > 100000) {
            std::erase_if(used_, [&](const auto& kv) { return kv.second < now_unix; });
        }
        return used_.emplace(key, now_unix + 3600).second;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::string, int64_t> used_;  // hash -> when it may be forgotten
};

// A query number from `min` to `max` (`def` when absent); nullopt when it is not one.
std::optional<int64_t>
QueryInt(const http::Request& req, std::string_view key, int64_t def, int64_t min, int64_t max) {
    auto v = req.Query(key);
    if (!v || v->empty()) {
        return def;
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || n < min || n > max) {
        return std::nullopt;
    }
    return n;
}

// The request page: shown in a frame inside the workspace, so any site may frame it; its form
// posts back to itself.
http::Response Page(int status, std::string_view title, std::string_view body) {
    std::string html = fmt::format(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>"
        "<style>body{{font:15px system-ui,sans-serif;margin:2rem;max-width:34rem;color:#1f2329}}"
        "textarea{{width:100%;min-height:6rem;font:inherit}}button{{font:inherit;padding:.4rem "
        "1rem;margin-top:.8rem}}.err{{color:#b3261e}}</style></head><body><h1>{}</h1>{}"
        "</body></html>",
        core::HtmlEscape(title),
        core::HtmlEscape(title),
        body
    );
    return http::Response{
        status,
        "text/html; charset=utf-8",
        {{"cache-control", "no-store"},
         {"referrer-policy", "no-referrer"},
         {"content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}},
        std::move(html),
        {}};
}

http::Response PageError(const std::string& message) {
    return Page(
        400, "This request cannot be made", "<p class=\"err\">" + core::HtmlEscape(message) + "</p>"
    );
}

// The form's fields: the query (GET) or the form body (POST).
RequestForm ReadForm(const http::Request& req) {
    RequestForm f;
    f.app_id = req.Param("id");
    if (req.method == "POST") {
        auto pairs = core::ParseForm(req.body);
        for (auto& [k, v] : pairs ? *pairs : decltype(pairs)::value_type{}) {
            if (k == "workspaceId") {
                f.workspace = v;
            } else if (k == "requester") {
                f.requester = v;
            } else if (k == "admins") {
                f.admins = v;
            } else if (k == "message") {
                f.message = v;
            }
        }
    } else {
        f.workspace = req.Query("workspaceId").value_or("");
        f.requester = req.Query("requester").value_or("");
        f.admins = req.Query("admins").value_or("");
    }
    return f;
}

void AddRequestRoutes(
    http::Router& router,
    Catalogue& c,
    AppRequests& requests,
    edge::Workspaces& w,
    const std::string& base
) {
    auto& r = requests;
    // What the request is for and from whom, or an error page.
    auto prepare = [&c, &w](RequestForm& f) -> std::expected<std::string, http::Response> {
        auto facts = f.workspace.size() <= 64 ? w.FactsOf(f.workspace) : std::nullopt;
        if (!facts) {
            return std::unexpected(PageError("workspaceId does not name a registered workspace"));
        }
        f.tenant = facts->tenant;
        auto info = c.Info(f.app_id, "", "", f.tenant);
        if (!info) {
            return std::unexpected(PageError("this app is not in the marketplace"));
        }
        auto people = ReadRequestPeople(f);
        if (!people) {
            return std::unexpected(PageError(people.error().message));
        }
        return core::StrAt(info->at(0).as_object(), "name");
    };
    router.Add("GET", base + "/apps/{id}/requestAccess", Guarded([prepare](http::Request& req) {
                   RequestForm f = ReadForm(req);
                   auto app = prepare(f);
                   if (!app) {
                       return app.error();
                   }
                   auto hidden = [](std::string_view k, std::string_view v) {
                       return fmt::format(
                           R"(<input type="hidden" name="{}" value="{}">)", k, core::HtmlEscape(v)
                       );
                   };
                   return Page(
                       200,
                       "Request " + *app,
                       "<p>Your workspace's admins will see this request and can install the "
                       "app.</p><form method=\"post\">" +
                           hidden("workspaceId", f.workspace) + hidden("requester", f.requester) +
                           hidden("admins", f.admins) +
                           "<label for=\"message\">A note for them (optional)</label>"
                           "<textarea id=\"message\" name=\"message\" maxlength=\"2000\">"
                           "</textarea><button type=\"submit\">Send request</button></form>"
                   );
               }));
    router.Add(
        "POST", base + "/apps/{id}/requestAccess", Guarded([prepare, &r](http::Request& req) {
            if (req.Header("content-type").find("application/x-www-form-urlencoded") ==
                    std::string_view::npos ||
                !core::ParseForm(req.body)) {
                return PageError("send the form, form-encoded");
            }
            RequestForm f = ReadForm(req);
            auto app = prepare(f);
            if (!app) {
                return app.error();
            }
            auto made = r.Create(f);
            if (!made) {
                return PageError(made.error().message);
            }
            return Page(
                200,
                "Request sent",
                "<p>Your admins have been asked to install " + core::HtmlEscape(*app) +
                    ". You will get a message when it is installed.</p>"
            );
        })
    );
    router.Add("GET", base + "/v1/app-request", Guarded([&r, &w](http::Request& req) {
                   auto who = Caller(w, req, edge::kMarketplaceRead);
                   if (!who) {
                       return who.error();
                   }
                   auto limit = QueryInt(req, "limit", 25, 1, 100);
                   auto offset = QueryInt(req, "offset", 0, 0, 1000000);
                   if (!limit || !offset) {
                       return Json(
                           400,
                           json::object{
                               {"code", 400},
                               {"errorMsg", "limit must be 1-100 and offset a number from 0"}}
                       );
                   }
                   auto list = r.List(
                       who->workspace_id,
                       who->tenant,
                       req.Query("appId").value_or(""),
                       req.Query("q").value_or(""),
                       req.Query("sort").value_or("").substr(0, 64),
                       *limit,
                       *offset
                   );
                   return list ? Json(200, *list) : Failed(list.error());
               }));
    router.Add("GET", base + "/v1/app-request/stats", Guarded([&r, &w](http::Request& req) {
                   auto who = Caller(w, req, edge::kMarketplaceRead);
                   if (!who) {
                       return who.error();
                   }
                   auto stats = r.Stats(who->workspace_id, who->tenant);
                   return stats ? Json(200, *stats) : Failed(stats.error());
               }));
    router.Add(
        "POST", base + "/v1/app-request/markAsSeen", Guarded([&r, &w](http::Request& req) {
            auto who = Caller(w, req, edge::kMarketplaceRead);
            if (!who) {
                return who.error();
            }
            auto body = core::ParseJsonObject(req.body);
            const json::value* ids = body ? body->if_contains("ids") : nullptr;
            std::vector<std::string> list;
            bool ok = ids != nullptr && ids->is_array() && ids->as_array().size() <= 1000;
            for (size_t i = 0; ok && i < ids->as_array().size(); ++i) {
                const json::value& v = ids->as_array()[i];
                ok = v.is_string() && v.as_string().size() <= 64;
                if (ok) {
                    list.emplace_back(v.as_string());
                }
            }
            if (!ok) {
                return Json(
                    400,
                    json::object{
                        {"code", 400},
                        {"errorMsg", "send {\"ids\": [...]}: at most 1000 request ids"}}
                );
            }
            auto marked = r.MarkSeen(who->workspace_id, who->tenant, list);
            return marked ? Json(200, json::object{{"success", true}}) : Failed(marked.error());
        })
    );
    auto pending = Guarded([&r, &w](http::Request& req) {
        auto who = Caller(w, req, edge::kMarketplaceRead);
        if (!who) {
            return who.error();
        }
        auto apps = r.PendingApps(who->workspace_id, who->tenant);
        return apps ? Json(200, json::object{{"data", *apps}}) : Failed(apps.error());
    });
    router.Add("GET", base + "/v1/app-request/sent/pending", pending);
    router.Add("POST", base + "/v1/app-request/sent/pending", pending);
    router.Add(
        "POST", base + "/v1/app-request/markAsSent/{app}", Guarded([&r, &w](http::Request& req) {
            auto who = Caller(w, req, edge::kMarketplaceRead);
            if (!who) {
                return who.error();
            }
            auto marked = r.MarkSent(who->workspace_id, who->tenant, req.Param("app"), nullptr);
            return marked ? Json(200, json::object{{"success", true}}) : Failed(marked.error());
        })
    );
    // Older servers: {appId, userIds}, the requesters they told.
    router.Add(
        "POST", base + "/v1/app-request/markAsSent", Guarded([&r, &w](http::Request& req) {
            auto who = Caller(w, req, edge::kMarketplaceRead);
            if (!who) {
                return who.error();
            }
            auto body = core::ParseJsonObject(req.body);
            const json::value* users = body ? body->if_contains("userIds") : nullptr;
            std::string app = body ? core::StrAt(*body, "appId") : "";
            std::vector<std::string> ids;
            bool ok = !app.empty() && users != nullptr && users->is_array() &&
                      users->as_array().size() <= 1000;
            for (size_t i = 0; ok && i < users->as_array().size(); ++i) {
                const json::value& v = users->as_array()[i];
                ok = v.is_string();
                if (ok) {
                    ids.emplace_back(v.as_string());
                }
            }
            if (!ok) {
                return Json(
                    400,
                    json::object{
                        {"code", 400},
                        {"errorMsg", R"(send {"appId", "userIds": [...]} (at most 1000))"}}
                );
            }
            auto marked = r.MarkSent(who->workspace_id, who->tenant, app, &ids);
            return marked ? Json(200, json::object{{"success", true}}) : Failed(marked.error());
        })
    );
}

}  // namespace

void AddMarketplaceRoutes(
    http::Router& router,
    Catalogue& catalogue,
    AppRequests& requests,
    edge::Workspaces& workspaces,
    const std::string& base
) {
    auto used = std::make_shared<UsedTokens>();
    auto& c = catalogue;
    auto& w = workspaces;
    router.Add(
        "GET", base + "/v1/apps", Guarded([&c, &w](http::Request& req) {
            auto tenant = CallerTenant(w, req, edge::kMarketplaceRead);
            if (!tenant) {
                return tenant.error();
            }
            auto body = c.ListingsBody(req.Header("x-apps-engine-version"), *tenant);
            if (!body) {
                return Error(body.error());
            }
            return http::Response{
                200, "application/json", {{"cache-control", "no-store"}}, std::move(*body), {}};
        })
    );
    router.Add("GET", base + "/v1/apps/{id}", Guarded([&c, &w](http::Request& req) {
                   auto tenant = CallerTenant(w, req, edge::kMarketplaceRead);
                   if (!tenant) {
                       return tenant.error();
                   }
                   auto version = req.Query("appVersion");
                   if (!version) {
                       return Answer(c.Versions(req.Param("id"), *tenant));
                   }
                   return Answer(c.Info(
                       req.Param("id"), *version, req.Header("x-apps-engine-version"), *tenant
                   ));
               }));
    router.Add("GET", base + "/v1/apps/{id}/latest", Guarded([&c, &w](http::Request& req) {
                   auto tenant = CallerTenant(w, req, edge::kMarketplaceRead);
                   if (!tenant) {
                       return tenant.error();
                   }
                   auto info =
                       c.Info(req.Param("id"), "", req.Header("x-apps-engine-version"), *tenant);
                   if (!info) {
                       return Error(info.error());
                   }
                   return Json(200, info->at(0));
               }));
    router.Add("GET", base + "/v1/apps/{id}/screenshots", Guarded([&c](http::Request& req) {
                   return Answer(c.Screenshots(req.Param("id")));
               }));
    router.Add("GET", base + "/v1/categories", Guarded([&c](http::Request&) {
                   return Json(200, c.Categories());
               }));
    router.Add("GET", base + "/v1/featured-apps", Guarded([&c, &w](http::Request& req) {
                   auto tenant = CallerTenant(w, req, edge::kMarketplaceRead);
                   if (!tenant) {
                       return tenant.error();
                   }
                   return Answer(c.Featured(req.Header("x-apps-engine-version"), *tenant));
               }));
    router.Add("GET", base + "/v1/bundles/{id}/apps", Guarded([&c, &w](http::Request& req) {
                   auto tenant = CallerTenant(w, req, edge::kMarketplaceRead);
                   if (!tenant) {
                       return tenant.error();
                   }
                   return Answer(c.BundleApps(req.Param("id"), *tenant));
               }));
    router.Add(
        "GET",
        base + "/v2/apps/{id}/download/{version}",
        Guarded([&c, &w, used](http::Request& req) {
            std::string token = req.Query("token").value_or("");
            auto who = w.Authenticate("Bearer " + token, edge::kMarketplaceDownload);
            if (!who) {
                return Json(
                    who.error().status,
                    json::object{
                        {"code", who.error().status}, {"errorMsg", who.error().description}}
                );
            }
            if (!used->Use(token, who->expires_unix)) {
                return Json(
                    403,
                    json::object{
                        {"code", 403}, {"errorMsg", "this download token was used already"}}
                );
            }
            auto zip = c.Download(
                req.Param("id"),
                req.Param("version"),
                req.Header("x-apps-engine-version"),
                who->tenant,
                who->workspace_id,
                [&w, &who] {
                    auto facts = w.FactsOf(who->workspace_id);
                    return facts && facts->enterprise_apps;
                }
            );
            if (!zip) {
                return Error(zip.error());
            }
            // Exactly "application/zip": the server compares the whole header.
            return http::Response{
                200, "application/zip", {{"cache-control", "no-store"}}, std::move(*zip), {}};
        })
    );
    // The daily sync of what a workspace runs (Bearer only), and one app of it.
    router.Add(
        "GET", base + "/v1/workspaces/{id}/apps", Guarded([&c, &w](http::Request& req) {
            auto who = Caller(w, req, edge::kMarketplaceRead);
            if (!who) {
                return who.error();
            }
            if (req.Param("id") != who->workspace_id) {
                return Json(403, json::object{{"code", 403}, {"errorMsg", "another workspace"}});
            }
            return Answer(c.WorkspaceApps(who->workspace_id, who->tenant));
        })
    );
    router.Add(
        "GET", base + "/v1/workspaces/{id}/apps/{app}", Guarded([&c, &w](http::Request& req) {
            auto who = Caller(w, req, edge::kMarketplaceRead);
            if (!who) {
                return who.error();
            }
            auto info = c.Info(req.Param("app"), "", "", who->tenant);
            if (!info) {
                return Error(info.error());
            }
            return Json(200, json::object{{"latest", info->at(0)}});
        })
    );
    AddRequestRoutes(router, c, requests, w, base);
    router.Add("POST", base + "/v1/apps/{id}/install", Guarded([&c, &w](http::Request& req) {
                   auto who = Caller(w, req, 0);
                   if (!who) {
                       return who.error();
                   }
                   return Answer(c.Notify(req.Param("id"), req.body, who->workspace_id));
               }));
}

}  // namespace hangar::marketplace
