#include "hangar/marketplace/catalogue.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <boost/json/serialize.hpp>

#include "hangar/core/ids.hpp"
#include "hangar/core/json.hpp"

namespace hangar::marketplace {

using core::ErrorCode;
using core::Fail;
using core::StrAt;

namespace {

std::unexpected<MarketError> Refuse(int status, json::object body) {
    return std::unexpected(MarketError{status, std::move(body)});
}

std::unexpected<MarketError> NotFound(std::string_view what) {
    return Refuse(
        404, json::object{{"code", 404}, {"errorMsg", fmt::format("{} not found", what)}}
    );
}

// "1.2.0" → "1-2-0": a release's name is its app's slug and its version.
std::string VersionLabel(std::string_view v) {
    std::string out;
    for (char c : v) {
        out.push_back(
            std::isalnum(static_cast<unsigned char>(c)) != 0
                ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                : '-'
        );
    }
    return out;
}

bool Newer(const store::Object& a, const store::Object& b) {
    auto va = ParseVersion(StrAt(a.spec, "version"));
    auto vb = ParseVersion(StrAt(b.spec, "version"));
    if (va && vb && *va != *vb) {
        return *va > *vb;
    }
    return a.created_at > b.created_at;
}

// The flat app info (IMarketplaceInfo) of a release: what install stores as marketplaceInfo.
json::object FlatInfo(const store::Object& app, const store::Object& rel) {
    const json::object& r = rel.spec;
    json::object o{
        {"id", StrAt(r, "app_id")},
        {"name", StrAt(r, "name")},
        {"nameSlug", StrAt(r, "name_slug")},
        {"version", StrAt(r, "version")},
        {"requiredApiVersion", StrAt(r, "required_api_version")},
        {"description", StrAt(r, "description")},
        {"classFile", StrAt(r, "class_file")},
        {"iconFile", StrAt(r, "icon_file")},
        {"author", r.contains("author") ? r.at("author") : json::value(json::object())},
        {"permissions",
         r.contains("permissions") ? r.at("permissions") : json::value(json::array())},
        {"implements", r.contains("implements") ? r.at("implements") : json::value(json::array())},
        {"categories",
         app.spec.contains("categories") ? app.spec.at("categories") : json::value(json::array())},
        {"status", "published"},
        {"isVisible", true},
        {"isPurchased", false},
        {"isSubscribed", false},
        {"isBundled", false},
        {"createdDate", rel.created_at},
        {"modifiedDate", rel.updated_at},
        {"price", app.spec.contains("price") ? app.spec.at("price") : json::value(0)},
        {"purchaseType", StrAt(app.spec, "purchase_type")},
        {"isEnterpriseOnly", core::BoolAt(app.spec, "enterprise_only")},
    };
    return o;
}

// The pricing plans of an app as a listing carries them (PricingPlan in core-typings).
json::array PricingPlans(const store::Object& app) {
    json::array out;
    const json::value* plans = app.spec.if_contains("pricing_plans");
    if (plans == nullptr || !plans->is_array()) {
        return out;
    }
    std::string uuid = StrAt(app.status, "app_id");
    for (size_t i = 0; i < plans->as_array().size(); ++i) {
        const json::value& pv = plans->as_array()[i];
        if (!pv.is_object()) {
            continue;
        }
        const json::object& p = pv.as_object();
        json::array tiers;
        if (const json::value* ts = p.if_contains("tiers"); ts != nullptr && ts->is_array()) {
            for (const auto& tv : ts->as_array()) {
                if (!tv.is_object()) {
                    continue;
                }
                const json::object& t = tv.as_object();
                tiers.push_back(json::object{
                    {"perUnit", core::BoolAt(t, "per_unit")},
                    {"minimum", core::IntAt(t, "minimum")},
                    {"maximum", core::IntAt(t, "maximum")},
                    {"price", t.contains("price") ? t.at("price") : json::value(0)}});
            }
        }
        json::object plan{
            {"id", fmt::format("{}-plan-{}", uuid, i + 1)},
            {"enabled", core::BoolAt(p, "enabled")},
            {"price", p.contains("price") ? p.at("price") : json::value(0)},
            {"trialDays", core::IntAt(p, "trial_days")},
            {"strategy", StrAt(p, "strategy")},
            {"isPerSeat", core::BoolAt(p, "per_seat")}};
        if (!tiers.empty()) {
            plan["tiers"] = std::move(tiers);
        }
        out.push_back(std::move(plan));
    }
    return out;
}

bool ListsApp(const store::Object& holder, std::string_view uuid) {
    const json::value* apps = holder.spec.if_contains("apps");
    if (apps == nullptr || !apps->is_array()) {
        return false;
    }
    return std::ranges::any_of(apps->as_array(), [&](const json::value& v) {
        return v.is_string() && v.as_string() == uuid;
    });
}

}  // namespace

MarketResult<Version> ReadEngineVersion(std::string_view header) {
    auto v = ParseVersion(header);
    if (!v) {
        return Refuse(
            400,
            json::object{
                {"code", 200},
                {"errorMsg", "X-Apps-Engine-Version must be the engine's version, such as 1.45.0"}}
        );
    }
    return *v;
}

json::object Catalogue::Listing(
    const Index& index,
    const store::Object& a,
    const store::Object& rel,
    const Version* engine
) {
    json::object latest = FlatInfo(a, rel);
    // The listing says these of the app itself, not of its latest version.
    for (auto key :
         {"price",
          "purchaseType",
          "isEnterpriseOnly",
          "isPurchased",
          "isSubscribed",
          "isBundled"}) {
        latest.erase(key);
    }
    latest["internalId"] = rel.id;
    latest["iconFileData"] = StrAt(rel.status, "icon_data");
    latest["detailedDescription"] = json::object{{"raw", StrAt(rel.spec, "description")}};
    latest["detailedChangelog"] = json::object();
    latest["versionIncompatible"] =
        engine != nullptr && !EngineSatisfies(*engine, StrAt(rel.spec, "required_api_version"));
    std::string uuid = StrAt(a.status, "app_id");
    json::array bundled_in;
    for (const auto& b : index.bundles) {
        if (ListsApp(b, uuid)) {
            bundled_in.push_back(json::object{
                {"bundleId", b.id}, {"bundleName", StrAt(b.spec, "title")}});
        }
    }
    return json::object{
        {"appId", uuid},
        {"latest", std::move(latest)},
        {"isAddon", false},
        {"isEnterpriseOnly", core::BoolAt(a.spec, "enterprise_only")},
        {"isBundle", false},
        {"bundledIn", std::move(bundled_in)},
        {"isPurchased", false},
        {"isSubscribed", false},
        {"price", a.spec.contains("price") ? a.spec.at("price") : json::value(0)},
        {"purchaseType", StrAt(a.spec, "purchase_type")},
        {"pricingPlans", PricingPlans(a)},
        {"createdAt", a.created_at},
        {"modifiedAt", a.updated_at}};
}

const store::Object* Catalogue::Visible(
    const Index& index,
    std::string_view uuid,
    const std::string& tenant,
    const store::Object** newest
) {
    auto it = index.apps.find(std::string(uuid));
    if (it == index.apps.end()) {
        return nullptr;
    }
    const store::Object& a = it->second;
    std::string owner = StrAt(a.spec, "tenant");
    auto rel = index.releases.find(a.id);
    if (core::BoolAt(a.spec, "yanked") || (!owner.empty() && owner != tenant) ||
        rel == index.releases.end() || rel->second.empty()) {
        return nullptr;
    }
    *newest = &rel->second.front();
    return &a;
}

MarketResult<json::array>
Catalogue::BundleApps(std::string_view bundle, const std::string& tenant) {
    auto index = CurrentIndex(/*force=*/true);
    for (const auto& b : index->bundles) {
        if (b.id != bundle && b.name != bundle) {
            continue;
        }
        json::array out;
        for (const auto& id : b.spec.at("apps").as_array()) {
            const store::Object* rel = nullptr;
            if (const store::Object* a = Visible(*index, id.as_string(), tenant, &rel)) {
                out.push_back(Listing(*index, *a, *rel, nullptr));
            }
        }
        return out;
    }
    return NotFound("bundle");
}

MarketResult<json::object> Catalogue::Featured(std::string_view engine, const std::string& tenant) {
    std::optional<Version> v;
    if (!engine.empty()) {
        auto read = ReadEngineVersion(engine);
        if (!read) {
            return std::unexpected(read.error());
        }
        v = *read;
    }
    auto index = CurrentIndex(/*force=*/true);
    std::vector<const store::Object*> sections;
    for (const auto& s : index->sections) {
        sections.push_back(&s);
    }
    std::ranges::sort(sections, [](const store::Object* x, const store::Object* y) {
        int64_t ox = core::IntAt(x->spec, "order");
        int64_t oy = core::IntAt(y->spec, "order");
        return ox != oy ? ox < oy : x->name < y->name;
    });
    json::array out;
    for (const store::Object* s : sections) {
        json::array apps;
        for (const auto& id : s->spec.at("apps").as_array()) {
            const store::Object* rel = nullptr;
            if (const store::Object* a = Visible(*index, id.as_string(), tenant, &rel)) {
                apps.push_back(Listing(*index, *a, *rel, v ? &*v : nullptr));
            }
        }
        out.push_back(json::object{
            {"slug", s->name}, {"i18nLabel", StrAt(s->spec, "label")}, {"apps", std::move(apps)}});
    }
    return json::object{{"sections", std::move(out)}};
}

MarketResult<json::array> Catalogue::Screenshots(std::string_view app_id) {
    auto app = AppByUuid(app_id, "");
    if (!app) {
        return NotFound("app");
    }
    json::array out;
    const json::value* shots = app->spec.if_contains("screenshots");
    if (shots == nullptr || !shots->is_array()) {
        return out;
    }
    for (size_t i = 0; i < shots->as_array().size(); ++i) {
        const json::value& sv = shots->as_array()[i];
        if (!sv.is_object()) {
            continue;
        }
        const json::object& sh = sv.as_object();
        out.push_back(json::object{
            {"id", fmt::format("{}-screenshot-{}", app_id, i + 1)},
            {"appId", app_id},
            {"fileName", StrAt(sh, "file_name")},
            {"accessUrl", StrAt(sh, "url")},
            {"thumbnailUrl", StrAt(sh, "thumbnail_url")},
            {"createdAt", app->created_at},
            {"modifiedAt", app->updated_at}});
    }
    return out;
}

core::Result<json::object>
Catalogue::Publish(std::string_view zip, const PublishOptions& opts, store::AuditEvent audit) {
    auto pkg = ReadAppPackage(zip);
    if (!pkg) {
        return Fail(pkg.error());
    }
    std::string now = core::FormatRfc3339(clock_.Now());
    std::string slug = pkg->name_slug;
    auto app = store_.FindByName("App", "", slug);
    if (app && StrAt(app->status, "app_id") != pkg->id) {
        return Fail(core::MakeError(
            ErrorCode::kConflict,
            fmt::format(
                "the slug {} belongs to another app ({})", slug, StrAt(app->status, "app_id")
            )
        ));
    }
    if (!app) {
        if (app.error().code != ErrorCode::kNotFound) {
            return Fail(app.error());
        }
        store::Object a;
        a.id = core::NewId("app");
        a.kind = "App";
        a.name = slug;
        a.created_at = a.updated_at = now;
        a.generation = 1;
        a.spec = json::object{
            {"categories", json::array()},
            {"purchase_type", ""},
            {"price", 0},
            {"enterprise_only", false},
            {"yanked", false}};
        if (!opts.tenant.empty()) {
            a.spec["tenant"] = opts.tenant;
        }
        a.status = json::object{{"app_id", pkg->id}, {"display_name", pkg->name}};
        store::AuditEvent app_audit = audit;
        app_audit.action = "app.create";
        app_audit.object = a.id;
        auto created = store_.Create(a, std::nullopt, app_audit);
        if (!created) {
            return Fail(created.error());
        }
        app = created->object;
    }
    store::Object rel;
    rel.id = core::NewId("apr");
    rel.kind = "AppRelease";
    rel.name = (slug + "-" + VersionLabel(pkg->version)).substr(0, 63);
    rel.created_at = rel.updated_at = now;
    rel.generation = 1;
    rel.spec = json::object{
        {"app", app->id},
        {"app_id", pkg->id},
        {"name", pkg->name},
        {"name_slug", slug},
        {"version", pkg->version},
        {"required_api_version", pkg->required_api_version},
        {"description", pkg->description},
        {"class_file", pkg->class_file},
        {"icon_file", StrAt(pkg->manifest, "iconFile")},
        {"author", pkg->author},
        {"permissions", pkg->permissions},
        {"implements", pkg->implements},
        {"yanked", false}};
    rel.status = json::object{
        {"sha256", core::Sha256Hex(zip)},
        {"size", static_cast<int64_t>(zip.size())},
        {"icon_data", pkg->icon_data},
        {"downloads", 0}};
    audit.object = rel.id;
    auto created = store_.Create(rel, std::nullopt, audit, zip);
    if (!created) {
        if (created.error().code == ErrorCode::kAlreadyExists) {
            return Fail(core::MakeError(
                ErrorCode::kConflict,
                fmt::format("{} {} is already published; publish a new version", slug, pkg->version)
            ));
        }
        return Fail(created.error());
    }
    return json::object{
        {"app", store::ObjectToJson(*app)}, {"release", store::ObjectToJson(created->object)}};
}

std::shared_ptr<const Catalogue::Index> Catalogue::CurrentIndex(bool force) {
    uint64_t epoch = epoch_.load(std::memory_order_relaxed);
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(index_mu_);
    // `force` reads the store whatever the epoch says: the commit hook that moves the epoch
    // may run after a caller's own write has returned, and its next read must see that write.
    bool stale = index_ == nullptr || force ||
                 (index_epoch_ != epoch && now - index_at_ >= std::chrono::seconds(1));
    if (!stale) {
        return index_;
    }
    auto index = std::make_shared<Index>();
    auto apps = store_.ListAll("App");
    auto releases = store_.ListAll("AppRelease");
    auto bundles = store_.ListAll("AppBundle");
    auto sections = store_.ListAll("AppSection");
    if (!apps || !releases || !bundles || !sections) {
        return index_ != nullptr ? index_ : index;  // the store is busy: the last one
    }
    index->bundles = std::move(*bundles);
    index->sections = std::move(*sections);
    for (auto& a : *apps) {
        std::string uuid = StrAt(a.status, "app_id");
        index->apps.emplace(std::move(uuid), std::move(a));
    }
    for (auto& r : *releases) {
        if (!core::BoolAt(r.spec, "yanked")) {
            index->releases[StrAt(r.spec, "app")].push_back(std::move(r));
        }
    }
    for (auto& [app, list] : index->releases) {
        std::sort(list.begin(), list.end(), Newer);
    }
    index_ = std::move(index);
    index_epoch_ = epoch;
    index_at_ = now;
    return index_;
}

std::optional<store::Object>
Catalogue::AppByUuid(std::string_view app_id, const std::string& tenant) {
    for (bool force : {false, true}) {
        auto index = CurrentIndex(force);
        auto it = index->apps.find(std::string(app_id));
        if (it == index->apps.end()) {
            continue;  // published a moment ago? read again
        }
        const store::Object& a = it->second;
        std::string owner = StrAt(a.spec, "tenant");
        if (core::BoolAt(a.spec, "yanked") || (!owner.empty() && owner != tenant)) {
            return std::nullopt;
        }
        return a;
    }
    return std::nullopt;
}

std::vector<store::Object> Catalogue::Releases(const std::string& app_object_id) {
    auto index = CurrentIndex();
    auto it = index->releases.find(app_object_id);
    return it == index->releases.end() ? std::vector<store::Object>() : it->second;
}

MarketResult<json::array> Catalogue::Listings(std::string_view engine, const std::string& tenant) {
    auto v = ReadEngineVersion(engine);
    if (!v) {
        return std::unexpected(v.error());
    }
    // Fresh: a listing is rebuilt only when something was committed (ListingsBody caches it),
    // and a yanked app must leave it at once.
    auto index = CurrentIndex(/*force=*/true);
    json::array out;
    for (const auto& [uuid, a] : index->apps) {
        const store::Object* rel = nullptr;
        if (Visible(*index, uuid, tenant, &rel) != nullptr) {
            out.push_back(Listing(*index, a, *rel, &*v));
        }
    }
    return out;
}

MarketResult<std::string>
Catalogue::ListingsBody(std::string_view engine, const std::string& tenant) {
    std::string key = tenant + "|" + std::string(engine.substr(0, 64));
    uint64_t epoch = epoch_.load(std::memory_order_relaxed);
    {
        std::lock_guard lock(cache_mu_);
        if (auto it = listings_.find(key); it != listings_.end() && it->second.epoch == epoch) {
            return it->second.body;
        }
    }
    auto list = Listings(engine, tenant);
    if (!list) {
        return std::unexpected(list.error());
    }
    std::string body = json::serialize(*list);
    std::lock_guard lock(cache_mu_);
    if (listings_.size() >= 256) {
        listings_.clear();  // engine strings are the caller's: bounded, not an LRU
    }
    listings_[key] = CachedListing{epoch, body};
    return body;
}

MarketResult<json::array> Catalogue::Info(
    std::string_view app_id,
    std::string_view version,
    std::string_view engine,
    const std::string& tenant
) {
    auto app = AppByUuid(app_id, tenant);
    if (!app) {
        return NotFound("app");
    }
    for (const auto& rel : Releases(app->id)) {
        if (version.empty() || StrAt(rel.spec, "version") == version) {
            if (!engine.empty()) {
                auto v = ReadEngineVersion(engine);
                if (!v) {
                    return std::unexpected(v.error());
                }
                if (!EngineSatisfies(*v, StrAt(rel.spec, "required_api_version"))) {
                    return Refuse(426, json::object{{"errorMsg", "unsupported version"}});
                }
            }
            return json::array{FlatInfo(*app, rel)};
        }
    }
    return NotFound("version");
}

MarketResult<json::array> Catalogue::Versions(std::string_view app_id, const std::string& tenant) {
    auto app = AppByUuid(app_id, tenant);
    if (!app) {
        return NotFound("app");
    }
    json::array out;
    for (const auto& rel : Releases(app->id)) {
        out.push_back(FlatInfo(*app, rel));
    }
    return out;
}

MarketResult<std::string> Catalogue::Download(
    std::string_view app_id,
    std::string_view version,
    std::string_view engine,
    const std::string& tenant,
    const std::string& workspace,
    const std::function<bool()>& enterprise_allowed
) {
    auto app = AppByUuid(app_id, tenant);
    if (!app) {
        return NotFound("app");
    }
    if (auto gate = gate_->Check(tenant, "marketplace_downloads", true);
        gate.kind == core::GateAnswer::kDenied) {
        return Refuse(403, json::object{{"code", 403}, {"errorMsg", gate.reason}});
    }
    if (core::BoolAt(app->spec, "enterprise_only") && !enterprise_allowed()) {
        return Refuse(
            403,
            json::object{
                {"code", 403},
                {"errorMsg",
                 "this app is for plans with enterprise apps; the workspace's plan has none"}}
        );
    }
    for (const auto& rel : Releases(app->id)) {
        if (StrAt(rel.spec, "version") != version) {
            continue;
        }
        if (!engine.empty()) {
            auto v = ReadEngineVersion(engine);
            if (!v) {
                return std::unexpected(v.error());
            }
            if (!EngineSatisfies(*v, StrAt(rel.spec, "required_api_version"))) {
                return Refuse(426, json::object{{"errorMsg", "unsupported version"}});
            }
        }
        std::shared_ptr<const std::string> zip;
        {
            std::lock_guard lock(cache_mu_);
            if (auto it = blobs_.find(rel.id); it != blobs_.end()) {
                zip = it->second;
            }
        }
        if (!zip) {
            auto blob = store_.GetBlob(rel.id);
            if (!blob) {
                return Refuse(
                    500, json::object{{"code", 266}, {"errorMsg", "the package cannot be read"}}
                );
            }
            zip = std::make_shared<const std::string>(std::move(*blob));
            std::lock_guard lock(cache_mu_);
            if (blob_bytes_ + zip->size() > kBlobCacheBytes) {
                blobs_.clear();
                blob_bytes_ = 0;
            }
            if (zip->size() <= kBlobCacheBytes && blobs_.emplace(rel.id, zip).second) {
                blob_bytes_ += zip->size();
            }
        }
        std::string t = core::FormatRfc3339(clock_.Now());
        (void)store_.Update(
            rel.id,
            std::nullopt,
            t,
            [](store::Object& o) -> core::Result<void> {
                o.status["downloads"] = core::IntAt(o.status, "downloads") + 1;
                return {};
            },
            store::SystemAudit(t, "marketplace", "", rel.id)
        );
        usage_->Record(
            "hangar.marketplace.download",
            tenant,
            json::object{
                {"app", StrAt(app->status, "app_id")},
                {"slug", app->name},
                {"version", std::string(version)},
                {"workspace", workspace}}
        );
        return *zip;
    }
    return NotFound("version");
}

MarketResult<json::object>
Catalogue::Notify(std::string_view app_id, std::string_view body, const std::string& workspace) {
    auto parsed = core::ParseJsonObject(body);
    if (!parsed) {
        return Refuse(
            400, json::object{{"code", 400}, {"errorMsg", "the body must be a JSON object"}}
        );
    }
    std::string action = StrAt(*parsed, "action");
    if (action != "install" && action != "update" && action != "uninstall") {
        return Refuse(
            400,
            json::object{{"code", 400}, {"errorMsg", "action must be install, update or uninstall"}}
        );
    }
    auto index = CurrentIndex(/*force=*/true);
    auto found = index->apps.find(std::string(app_id));
    std::optional<store::Object> app;
    if (found != index->apps.end()) {
        app = found->second;
    }
    if (!app) {
        return NotFound("app");
    }
    std::string t = core::FormatRfc3339(clock_.Now());
    auto u = store_.Update(
        app->id,
        std::nullopt,
        t,
        [&](store::Object& o) -> core::Result<void> {
            json::value& counts = o.status["installs"];
            if (!counts.is_object()) {
                counts = json::object();
            }
            json::object& c = counts.as_object();
            c[action] = core::IntAt(c, action) + 1;
            // Which workspaces run it (the daily per-workspace sync answers from this), bounded.
            json::value& ws = o.status["workspaces"];
            if (!ws.is_object()) {
                ws = json::object();
            }
            if (action == "uninstall") {
                ws.as_object().erase(workspace);
            } else if (ws.as_object().size() < 10000 || ws.as_object().contains(workspace)) {
                ws.as_object()[workspace] = StrAt(*parsed, "appVersion");
            }
            o.status["active_installs"] =
                std::max<int64_t>(0, core::IntAt(c, "install") - core::IntAt(c, "uninstall"));
            o.status["last_install_event_at"] = t;
            // Installs over time (the dashboard's chart): a count per UTC day, the last 90.
            if (action == "install") {
                json::value& days = o.status["installs_by_day"];
                if (!days.is_object()) {
                    days = json::object();
                }
                json::object& d = days.as_object();
                std::string day = t.substr(0, 10);
                d[day] = core::IntAt(d, day) + 1;
                while (d.size() > 90) {
                    auto oldest = std::ranges::min_element(d, [](const auto& x, const auto& y) {
                        return x.key() < y.key();
                    });
                    d.erase(oldest);
                }
            }
            return {};
        },
        store::SystemAudit(t, "workspace:" + workspace, "", app->id)
    );
    if (!u) {
        return Refuse(
            500, json::object{{"code", 266}, {"errorMsg", "the notification was not recorded"}}
        );
    }
    return json::object{};
}

MarketResult<json::array>
Catalogue::WorkspaceApps(const std::string& workspace, const std::string& tenant) {
    auto index = CurrentIndex(/*force=*/true);
    json::array out;
    for (const auto& [uuid, a] : index->apps) {
        const json::object* ws = core::ObjectAt(a.status, "workspaces");
        const store::Object* rel = nullptr;
        if (ws != nullptr && ws->contains(workspace) &&
            Visible(*index, uuid, tenant, &rel) != nullptr) {
            out.push_back(json::object{{"latest", FlatInfo(a, *rel)}});
        }
    }
    return out;
}

json::array Catalogue::Categories() {
    std::map<std::string, std::string> seen;  // title -> created
    auto index = CurrentIndex();              // held: the apps live as long as it does
    for (const auto& [uuid, a] : index->apps) {
        if (const json::value* cs = a.spec.if_contains("categories");
            cs != nullptr && cs->is_array()) {
            for (const auto& c : cs->as_array()) {
                if (c.is_string()) {
                    seen.emplace(std::string(c.as_string()), a.created_at);
                }
            }
        }
    }
    json::array out;
    for (const auto& [title, created] : seen) {
        out.push_back(json::object{
            {"id", title},
            {"title", title},
            {"description", ""},
            {"hidden", false},
            {"createdDate", created},
            {"modifiedDate", created}});
    }
    return out;
}

}  // namespace hangar::marketplace
