#pragma once
// The catalogue: apps a platform admin publishes (App, one per app id; AppRelease, one per
// uploaded version, holding the .zip as a blob with its SHA-256), answered to workspaces in the
// shapes a stock Rocket.Chat server validates (apps/meteor/ee/server/apps/marketplace/
// fetchMarketplaceApps.ts): listings, a version's flat info, the zip, install notifications.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "hangar/core/clock.hpp"
#include "hangar/core/entitlement_gate.hpp"
#include "hangar/core/error.hpp"
#include "hangar/core/usage.hpp"
#include "hangar/marketplace/package.hpp"
#include "hangar/store/store.hpp"

namespace hangar::marketplace {

struct PublishOptions {
    std::string tenant;  // non-empty: the app is private to this tenant
};

// The contract's error answers: 426 {"errorMsg"}, 400 {"code", "errorMsg"}, 404, 401, 403.
struct MarketError {
    int status = 400;
    json::object body;
};
template <typename T>
using MarketResult = std::expected<T, MarketError>;

class Catalogue {
public:
    Catalogue(store::Store& store, const core::Clock& clock) : store_(store), clock_(clock) {}

    // Reads the package and records a new release (and the App on its first one).
    // {"app": App, "release": AppRelease}.
    core::Result<json::object>
    Publish(std::string_view zip, const PublishOptions& opts, store::AuditEvent audit);

    // GET /v1/apps for an engine (X-Apps-Engine-Version) and a caller's tenant ("" : anonymous,
    // only public apps): one listing per app, its newest release.
    MarketResult<json::array> Listings(std::string_view engine, const std::string& tenant);
    // The same, serialized, from a cache that any commit to the store empties (a listing of 500
    // apps reads and renders 500 apps and their releases).
    MarketResult<std::string> ListingsBody(std::string_view engine, const std::string& tenant);
    // Any commit may have changed an app: the caches are stale (Store::OnCommitted).
    void Invalidate() { epoch_.fetch_add(1, std::memory_order_relaxed); }
    // GET /v1/apps/{id}?appVersion=: an array of exactly one flat info; 426 when the engine is
    // older than the version needs (`engine` empty: not checked, the server sends none here).
    MarketResult<json::array> Info(
        std::string_view app_id,
        std::string_view version,
        std::string_view engine,
        const std::string& tenant
    );
    // GET /v1/apps/{id}: every release's flat info, newest first.
    MarketResult<json::array> Versions(std::string_view app_id, const std::string& tenant);
    // The zip of a release, for a workspace of `tenant`; counts the download.
    // An enterprise-only app only when `enterprise_allowed()` (the workspace's plan has
    // entitlements.enterprise_apps; asked only for such an app).
    MarketResult<std::string> Download(
        std::string_view app_id,
        std::string_view version,
        std::string_view engine,
        const std::string& tenant,
        const std::string& workspace,
        const std::function<bool()>& enterprise_allowed
    );
    // Each download is reported as usage ("hangar.marketplace.download").
    void SetUsageSink(core::UsageSink& sink) { usage_ = &sink; }
    // A tenant whose entitlement to "marketplace_downloads" is used up gets 403.
    void SetEntitlementGate(core::EntitlementGate& gate) { gate_ = &gate; }
    // GET /v1/bundles/{id}/apps: the listings of a bundle's apps the caller may see (no engine
    // header comes with it).
    MarketResult<json::array> BundleApps(std::string_view bundle, const std::string& tenant);
    // GET /v1/featured-apps: {"sections": [{slug, i18nLabel, apps: [listing]}]} in order.
    MarketResult<json::object> Featured(std::string_view engine, const std::string& tenant);
    // GET /v1/apps/{id}/screenshots (sent without a Bearer: public apps only).
    MarketResult<json::array> Screenshots(std::string_view app_id);
    // Whether a workspace of `tenant` may see the app (published, not yanked, not another
    // tenant's).
    bool AppVisible(std::string_view app_id, const std::string& tenant) {
        return AppByUuid(app_id, tenant).has_value();
    }
    // POST /v1/apps/{id}/install: {action, appVersion, ...} counted on the App.
    MarketResult<json::object>
    Notify(std::string_view app_id, std::string_view body, const std::string& workspace);
    // GET /v1/workspaces/{id}/apps: the apps the workspace runs (from its install
    // notifications), each as {latest: info}, as the daily sync reads them.
    MarketResult<json::array>
    WorkspaceApps(const std::string& workspace, const std::string& tenant);
    // GET /v1/categories: the categories apps are in.
    json::array Categories();

private:
    // Every App by its app id and every app's releases, newest first: read from the store when
    // something was committed since, at most once a second (a download's own counter is a
    // commit), and always with `force` (a lookup that missed, listings, the daily sync).
    struct Index {
        std::unordered_map<std::string, store::Object> apps;  // app id (UUID) -> App
        std::unordered_map<std::string, std::vector<store::Object>> releases;  // App object id
        std::vector<store::Object> bundles;                                    // AppBundle
        std::vector<store::Object> sections;                                   // AppSection
    };
    // One app's listing (its newest release); `engine` null: none was sent.
    static json::object Listing(
        const Index& index,
        const store::Object& app,
        const store::Object& newest,
        const Version* engine
    );
    // The app with this UUID if `tenant` may see it, and its newest release; else null.
    static const store::Object* Visible(
        const Index& index,
        std::string_view uuid,
        const std::string& tenant,
        const store::Object** newest
    );
    std::shared_ptr<const Index> CurrentIndex(bool force = false);
    std::optional<store::Object> AppByUuid(std::string_view app_id, const std::string& tenant);
    std::vector<store::Object> Releases(const std::string& app_object_id);
    store::Store& store_;
    const core::Clock& clock_;
    core::NullUsageSink no_usage_;
    core::UsageSink* usage_ = &no_usage_;
    core::OpenGate open_gate_;
    core::EntitlementGate* gate_ = &open_gate_;
    std::atomic<uint64_t> epoch_{0};
    std::mutex index_mu_;
    std::shared_ptr<const Index> index_;
    uint64_t index_epoch_ = 0;
    std::chrono::steady_clock::time_point index_at_{};
    std::mutex cache_mu_;
    struct CachedListing {
        uint64_t epoch = 0;
        std::string body;
    };
    std::unordered_map<std::string, CachedListing> listings_;  // tenant + engine -> body
    // Packages are immutable: kept in memory once read, up to kBlobCacheBytes in all.
    static constexpr size_t kBlobCacheBytes = size_t{256} * 1024 * 1024;
    std::unordered_map<std::string, std::shared_ptr<const std::string>> blobs_;
    size_t blob_bytes_ = 0;
};

// "1.45.0-alpha" → the engine version; a 400 {"code": 200} answer when it is not one.
MarketResult<Version> ReadEngineVersion(std::string_view header);

}  // namespace hangar::marketplace
