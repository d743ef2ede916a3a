#include "hangar/marketplace/routes.hpp"

#include <mutex>
#include <unordered_map>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/log.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/marketplace/catalogue.hpp"

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

}  // namespace

void AddMarketplaceRoutes(
    http::Router& router,
    Catalogue& catalogue,
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
    router.Add("GET", base + "/v1/apps/{id}/screenshots", Guarded([](http::Request&) {
                   return Json(200, json::array());
               }));
    router.Add("GET", base + "/v1/categories", Guarded([&c](http::Request&) {
                   return Json(200, c.Categories());
               }));
    router.Add("GET", base + "/v1/featured-apps", Guarded([](http::Request&) {
                   return Json(200, json::object{{"sections", json::array()}});
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
                who->workspace_id
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
            auto who = w.Authenticate(req.Header("authorization"), edge::kMarketplaceRead);
            if (!who) {
                return Json(
                    who.error().status,
                    json::object{
                        {"code", who.error().status}, {"errorMsg", who.error().description}}
                );
            }
            if (req.Param("id") != who->workspace_id) {
                return Json(403, json::object{{"code", 403}, {"errorMsg", "another workspace"}});
            }
            return Answer(c.WorkspaceApps(who->workspace_id, who->tenant));
        })
    );
    router.Add(
        "GET", base + "/v1/workspaces/{id}/apps/{app}", Guarded([&c, &w](http::Request& req) {
            auto who = w.Authenticate(req.Header("authorization"), edge::kMarketplaceRead);
            if (!who) {
                return Json(
                    who.error().status,
                    json::object{
                        {"code", who.error().status}, {"errorMsg", who.error().description}}
                );
            }
            auto info = c.Info(req.Param("app"), "", "", who->tenant);
            if (!info) {
                return Error(info.error());
            }
            return Json(200, json::object{{"latest", info->at(0)}});
        })
    );
    // App requests from end users: none are taken yet; the answers have the shapes the server
    // reads, so its twice-daily cron and admin pages work.
    router.Add("GET", base + "/v1/app-request", Guarded([](http::Request& req) {
                   return Json(
                       200,
                       json::object{
                           {"data", json::array()},
                           {"meta",
                            {{"limit", 25},
                             {"offset", 0},
                             {"sort", req.Query("sort").value_or("")},
                             {"filter", req.Query("q").value_or("")},
                             {"total", 0}}}}
                   );
               }));
    router.Add("GET", base + "/v1/app-request/stats", Guarded([](http::Request&) {
                   return Json(200, json::object{{"data", {{"totalSeen", 0}, {"totalUnseen", 0}}}});
               }));
    router.Add("POST", base + "/v1/app-request/markAsSeen", Guarded([](http::Request&) {
                   return Json(200, json::object{{"success", true}});
               }));
    router.Add("GET", base + "/v1/app-request/sent/pending", Guarded([](http::Request&) {
                   return Json(200, json::object{{"data", json::array()}});
               }));
    router.Add("POST", base + "/v1/apps/{id}/install", Guarded([&c, &w](http::Request& req) {
                   auto who = w.Authenticate(req.Header("authorization"), 0);
                   if (!who) {
                       return Json(
                           who.error().status,
                           json::object{
                               {"code", who.error().status}, {"errorMsg", who.error().description}}
                       );
                   }
                   return Answer(c.Notify(req.Param("id"), req.body, who->workspace_id));
               }));
}

}  // namespace hangar::marketplace
